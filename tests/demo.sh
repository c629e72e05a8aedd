#!/bin/sh
# make run: a demo data directory with a counsellor, a coordinator and one
# family per language, each with an appointment, a document request and
# check-ins; then the Telegram simulator and the daemon, side by side, until
# Ctrl-C. SIM_PORT and HTTP_PORT choose the ports (8081 and 8080), DEMO_DIR
# the directory (demo).
#
# Every run starts from a new data directory. The simulator keeps nothing
# once it stops: its chats, messages and update ids start again, so a
# database kept from the last run would hold links to chats the simulator
# no longer has, messages it never showed and appointments that have gone
# by. A new run is the same walk-through every time.
set -e
build=${1:-build}
bin="$build/casebot"
demo=${DEMO_DIR:-demo}
conf="$demo/casebot.conf"
sim_port=${SIM_PORT:-8081}
http_port=${HTTP_PORT:-8080}
token="100000:demo-token"

rm -rf "$demo/data"
mkdir -p "$demo"
cat >"$conf" <<CONF
[casebot]
data_dir = $demo/data
quiet_hours = off
[telegram]
bot_username = casebot_demo_bot
api_base = http://127.0.0.1:$sim_port
[http]
listen = 127.0.0.1:$http_port
CONF
cb() { "$bin" -c "$conf" "$@"; }

cb init
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
code=$(cb invite DEMO-NL --member Parent | sed -n 's/^code: //p')
echo

"$build/tgsim" --listen "127.0.0.1:$sim_port" --token "$token" 2>"$demo/tgsim.log" &
sim=$!
CASEBOT_TELEGRAM_TOKEN="$token" "$bin" -c "$conf" run 2>"$demo/casebot.log" &
daemon=$!
trap 'kill $daemon 2>/dev/null; wait $daemon; kill $sim 2>/dev/null; wait $sim; exit 0' INT TERM
sleep 1
cat <<EOF
casebot is running against the Telegram simulator.

  Chat as a family:  open http://127.0.0.1:$sim_port/chat in a browser,
                     use chat id 1001 and send:  /start $code
  Or from a shell:   curl -s -d '{"chat_id":1001,"text":"/start $code"}' http://127.0.0.1:$sim_port/control/message
                     curl -s -d '{"chat_id":1001,"text":"Hallo"}' http://127.0.0.1:$sim_port/control/message
                     curl -s http://127.0.0.1:$sim_port/control/sent?chat_id=1001
  The contact log:   $bin -c $conf log DEMO-NL
  Health, metrics:   curl -s http://127.0.0.1:$http_port/healthz ; curl -s http://127.0.0.1:$http_port/metrics
  Logs:              $demo/casebot.log, $demo/tgsim.log

Ctrl-C stops both. The next make run starts again from a new $demo/data.
EOF
wait $daemon
