/* Log lines on stderr: "2026-11-22T09:44:26Z info  message", or under
 * journald (stderr is the stream $JOURNAL_STREAM names) "<4>message", a
 * syslog priority the journal files the line under. Never pass a message
 * body, a token or a phone number at info level or above. Fatal only at
 * start-up (OpenBSD log.c habits). */
#ifndef CASEBOT_LOG_H
#define CASEBOT_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level level);
/* Looks (again) whether stderr is the journal; the first line logged looks
 * by itself. */
void log_init(void);
int log_level_parse(const char *s, enum log_level *out);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Logs and exits 1: for start-up only. */
void log_fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
