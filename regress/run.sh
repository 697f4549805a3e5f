#!/bin/sh
# Run every end-to-end test; each prints PASS or FAIL and the whole run
# fails if any test does.
cd "$(dirname "$0")/.." || exit 1
TOP=$(pwd)
export TOP
pass=0
failed=
for t in regress/phpeekd/[0-9]*.sh regress/phpeekctl/[0-9]*.sh ${REGRESS_EXTRA:-}; do
	name=${t#regress/}
	if out=$(sh "$t" 2>&1); then
		echo "PASS  $name"
		pass=$((pass + 1))
	else
		echo "FAIL  $name"
		printf '%s\n' "$out" | sed 's/^/      /'
		failed="$failed $name"
	fi
done
if [ -n "$failed" ]; then
	echo "regress: $pass passed, failed:$failed"
	exit 1
fi
echo "regress: all $pass passed"
