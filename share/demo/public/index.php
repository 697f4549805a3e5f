<?php
// The demo's one page: which PHP-FPM worker answered, and when.
header('Content-Type: text/plain');
printf("Hello from PHP-FPM %s, worker pid %d, %s\n", PHP_VERSION, getmypid(),
    date(DATE_RFC3339));
