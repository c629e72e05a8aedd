/* Each gateway's configuration section, as read into struct config. The
 * keys of a section, their defaults and their checks are in the gateway's
 * own file (a struct config_section named in the gateway table); a new
 * gateway adds its struct here. */
#ifndef CASEBOT_GATEWAY_SETTINGS_H
#define CASEBOT_GATEWAY_SETTINGS_H

#define SETTINGS_PATH_MAX 512

/* [telegram] */
struct telegram_settings {
	char api_base[256];
	char token_file[SETTINGS_PATH_MAX];
	char bot_username[64];
	int webhook;                  /* mode: 0 poll, 1 webhook */
	char webhook_secret_file[SETTINGS_PATH_MAX];
	char webhook_path[64];
	double rate_per_chat;         /* messages per second */
	double rate_global;
	int send_timeout;             /* seconds a send waits for an answer */
};

/* [whatsapp]: the WhatsApp Cloud API (Meta's Graph API). Configured when
 * phone_number_id is set. */
struct whatsapp_settings {
	char api_base[256];           /* with the Graph API version */
	char phone_number_id[64];     /* the business number's id at Meta */
	char display_number[32];      /* its digits, for https://wa.me/<number> links */
	char verify_token[256];       /* echoed back on GET verification */
	char webhook_path[64];        /* GET|POST /whatsapp/<webhook_path> */
	char token_file[SETTINGS_PATH_MAX];       /* or $CASEBOT_WHATSAPP_TOKEN */
	char app_secret_file[SETTINGS_PATH_MAX];  /* or $CASEBOT_WHATSAPP_APP_SECRET */
	double rate_per_chat;         /* messages per second */
	double rate_global;
};

/* [sms]: Twilio's Messaging API (or one that speaks it). Configured when
 * account_sid is set. */
struct sms_settings {
	char api_base[256];           /* https://api.twilio.com */
	char account_sid[64];
	char from[32];                /* E.164, a short code or a sender id... */
	char messaging_service_sid[64];   /* ...or the service that picks one */
	char public_url[512];         /* what Twilio calls: POST /sms/<webhook_path> behind a proxy */
	char webhook_path[64];
	char auth_token_file[SETTINGS_PATH_MAX];  /* or $CASEBOT_SMS_AUTH_TOKEN */
	char transliterate[32];       /* languages sent in GSM-7 letters: "nl,fr,de", "none" */
	double rate_per_chat;         /* messages per second */
	double rate_global;
};

/* [smtp]: staff without a chat gateway get forwards, alerts and a digest by mail */
struct smtp_settings {
	char url[256];                /* smtp://host:port or smtps://host:port; "" = no email */
	char from[256];
	char username[128];
	char password_file[SETTINGS_PATH_MAX];  /* or $CASEBOT_SMTP_PASSWORD */
	int digest_at;                /* local minute of the daily digest */
};

struct gateway_settings {
	struct telegram_settings telegram;
	struct smtp_settings smtp;
	struct whatsapp_settings whatsapp;
	struct sms_settings sms;
};

#endif
