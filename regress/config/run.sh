#!/bin/sh
# Golden tests of phpeekd -n: each N.yaml's report, human (N.ok) and
# JSON (N.json.ok), and its exit status.  `sh run.sh update` rewrites
# the .ok files after a deliberate change.
cd "$(dirname "$0")" || exit 1
PHPEEKD=${PHPEEKD:-../../phpeekd/phpeekd}
rc=0
for f in *.yaml; do
	n=${f%.yaml}
	"$PHPEEKD" -n -f "$f" >"/tmp/$n.out" 2>&1
	echo "exit $?" >>"/tmp/$n.out"
	"$PHPEEKD" -n -s -f "$f" >/dev/null 2>&1
	echo "strict exit $?" >>"/tmp/$n.out"
	"$PHPEEKD" -n -j -f "$f" >"/tmp/$n.json.out" 2>&1
	echo "exit $?" >>"/tmp/$n.json.out"
	for k in "$n" "$n.json"; do
		if [ "${1:-}" = update ]; then
			cp "/tmp/$k.out" "$k.ok"
		elif ! diff -u "$k.ok" "/tmp/$k.out"; then
			echo "FAIL: $k"
			rc=1
		fi
		rm -f "/tmp/$k.out"
	done
done
[ $rc -eq 0 ] && echo "config golden: all match"
exit $rc
