"""What an eval output folder holds (``rl-reasoner eval --out DIR``, the pipeline's ``RUN/eval``): the names
the runner writes and the search replay reads."""

CONFIG_FILE = "eval_config.json"  # what the samples depend on; a resume with another configuration is refused
SAMPLES_FILE = "samples.jsonl"  # one line per prompt: its samples, verified
METRICS_FILE = "metrics.json"  # written once every prompt is sampled
ORIGINAL = "original"  # the variant reported at the top level of metrics.json
