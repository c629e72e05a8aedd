/* casebot whatsapp: what the WhatsApp gateway needs from Meta before it
 * runs. Templates are approved by Meta one language at a time; this prints
 * each as the JSON its template API takes, from the catalogs. */
#include <stdlib.h>

#include "bot/cli/cli.h"
#include "bot/gateways/whatsapp_send.h"

/* One JSON object a line: POST /{whatsapp-business-account-id}/message_templates
 * takes each as it is. */
static int cmd_templates(struct cli *c, int argc, char **argv)
{
	char err[256], *json;
	int rc;

	if ((rc = cli_args_only(c, argc, argv, 0, "")) != CLI_OK || (rc = cli_open_locales(c)) != CLI_OK)
		return rc;
	if (whatsapp_templates_check(c->loc, err, sizeof(err)) != 0)
		return cli_usage_error(c, "%s", err);
	for (size_t i = 0; i < whatsapp_ntemplates; i++) {
		for (int l = 0; l < LANG_COUNT; l++) {
			if ((rc = whatsapp_template_definition(c->loc, (enum lang)l, &whatsapp_templates[i], &json)) != 0)
				return cli_fail(c, "template %s: %s", whatsapp_templates[i].name, casebot_strerror(rc));
			fprintf(c->out, "%s\n", json);
			free(json);
		}
	}
	return CLI_OK;
}

const struct cli_command cli_whatsapp_commands[] = {
	{"whatsapp", "templates", cmd_templates, "",
	 "Print every WhatsApp message template in each language, one JSON object a line, as Meta's template "
	 "API takes it (POST /{whatsapp-business-account-id}/message_templates)."},
	{0},
};
