<?php
// A stand-in for a Laravel queue worker: it takes a "job" every few
// seconds, logs it, and stops cleanly on SIGTERM like artisan queue:work.
pcntl_async_signals(true);
$running = true;
pcntl_signal(SIGTERM, function () use (&$running) { $running = false; });
$id = getenv('PHPEEK_PM_INSTANCE_ID') ?: 'worker';
$n = 0;
fwrite(STDOUT, "$id: waiting for jobs\n");
while ($running) {
	sleep(3);
	if (!$running)
		break;
	$n++;
	fwrite(STDOUT, "$id: processed job $n\n");
}
fwrite(STDOUT, "$id: stopping after $n jobs\n");
