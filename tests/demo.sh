#!/bin/sh
# make run: a demo data directory with a counsellor, a coordinator and one
# family per language, each with an appointment, a document request and
# check-ins, then what casebot has queued for them.
set -e
build=${1:-build}
bin="$build/casebot"
demo=demo
conf="$demo/casebot.conf"

mkdir -p "$demo"
if [ ! -f "$conf" ]; then
	cat >"$conf" <<CONF
[casebot]
data_dir = $demo/data
[telegram]
bot_username = casebot_demo_bot
CONF
fi
cb() { "$bin" -c "$conf" "$@"; }

cb init
if ! cb staff list | grep -q '^Sara '; then
	cb staff add Sara --role counsellor --lang nl
	cb staff add Marc --role coordinator --lang fr --email marc@example.org
	in3days=$(date -d '+3 days' '+%Y-%m-%d')
	in10days=$(date -d '+10 days' '+%Y-%m-%d')
	for l in nl fr de en; do
		ref="DEMO-$(echo $l | tr a-z A-Z)"
		cb family add "$ref" --lang "$l" --counsellor Sara --backup Marc --name "Demo $l"
		cb member add "$ref" Parent --role parent
		cb appointment add "$ref" --at "$in3days 14:00" --kind lawyer --member Parent
		cb document request "$ref" --type school_certificate --due "$in10days"
		cb checkin set "$ref" --every 7d --at "mon 10:00"
	done
fi
cb check
echo
cb family list
echo
cb family show DEMO-FR
echo
cb appointment list DEMO-FR
echo
for l in NL FR DE EN; do
	echo "--- what DEMO-$l will receive:"
	cb outbox "DEMO-$l"
done
echo
cb invite DEMO-NL
echo
echo "Data directory: $demo/data. Try: $bin -c $conf --help"
