"""The judges' pure primitives: functions of an output (and a case's expectations) to Scores or readings. They
know nothing of runs, stores or caches; the judge plugins one folder up apply them."""
