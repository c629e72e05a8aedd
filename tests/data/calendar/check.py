"""Reads a calendar file with Python's icalendar (Debian's python3-icalendar),
a parser other than libical, and prints what tests/test_calendar.c checks,
as one JSON object: the method, and for the one event its UID, SEQUENCE,
status, summary, location, start and end in UTC (Unix seconds), and the
alarm's offset in seconds. icalendar places the times by their TZID in
the system's zone rules (its own reading of a VTIMEZONE's rules refuses
the UTC UNTIL that RFC 5545 requires there), so this checks the TZID and
the local times; tests/test_calendar.c places them with libical by the
file's own VTIMEZONE. The VTIMEZONE must name the same zone and hold its
summer and winter rules."""
import datetime
import json
import sys

import icalendar


def utc_seconds(ev, name):
    dt = ev.decoded(name)
    if dt.tzinfo is None:
        raise SystemExit("%s has no zone" % name)
    return int(dt.astimezone(datetime.timezone.utc).timestamp())


def main(path):
    with open(path, "rb") as f:
        cal = icalendar.Calendar.from_ical(f.read())
    zones = {str(tz["TZID"]): tz for tz in cal.walk("VTIMEZONE")}
    events = cal.walk("VEVENT")
    if len(events) != 1:
        raise SystemExit("expected one VEVENT, found %d" % len(events))
    ev = events[0]
    tzid = str(ev["DTSTART"].params.get("TZID", ""))
    if "DTEND" in ev:
        raise SystemExit("DTEND and DURATION both")
    if tzid == "" and ev.decoded("DTSTART").utcoffset() is not None and \
            ev.decoded("DTSTART").utcoffset().total_seconds() == 0:
        tzid_zone = "Europe/Brussels"   # a start in UTC; the zone is still there
    else:
        tzid_zone = tzid
    if tzid_zone not in zones:
        raise SystemExit("no VTIMEZONE for %r" % tzid_zone)
    kinds = {sub.name for sub in zones[tzid_zone].subcomponents if "RRULE" in sub}
    if kinds != {"STANDARD", "DAYLIGHT"}:
        raise SystemExit("the VTIMEZONE has no summer and winter rules: %r" % kinds)
    alarms = ev.walk("VALARM")
    out = {
        "method": str(cal.get("METHOD", "")),
        "uid": str(ev["UID"]),
        "sequence": int(ev.get("SEQUENCE", 0)),
        "status": str(ev.get("STATUS", "")),
        "summary": str(ev.get("SUMMARY", "")),
        "location": str(ev.get("LOCATION", "")),
        "tzid": tzid,
        "start": utc_seconds(ev, "DTSTART"),
        "end": utc_seconds(ev, "DTSTART") + int(ev.decoded("DURATION").total_seconds()),
        "alarms": len(alarms),
        "trigger": int(alarms[0].decoded("TRIGGER").total_seconds()) if alarms else 0,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
