/* casebot: the admin CLI and (casebot run) the daemon. */
#include <stdio.h>
#include <sys/stat.h>

#include "bot/cli/cli.h"

int main(int argc, char **argv)
{
	/* Everything casebot writes is for staff eyes only. */
	umask(077);
	return cli_run(argc, argv, stdout, stderr);
}
