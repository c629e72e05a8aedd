/* The fuzz targets, one line each: tests/fuzz_<name>.c with its corpus in
 * tests/data/fuzz/<name>/. make fuzz builds and runs each with libFuzzer;
 * test_fuzz_corpus replays each corpus. A new parser's target is a file
 * and a line here (and the name in the Makefile's FUZZ_TARGETS). */
TARGET(telegram)
TARGET(whatsapp)
TARGET(sms)
TARGET(router)
TARGET(config)
TARGET(dates)
TARGET(catalog)
TARGET(webhook)
TARGET(console)
