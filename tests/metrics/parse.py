"""Reads the Prometheus text format on standard input with the Prometheus Python client's
own parser (prometheus_client.parser.text_string_to_metric_families) and prints what it
understood as JSON: one object per family, {name, type, samples: [{name, labels, value}]}.
A text the parser refuses exits non-zero with its error.

Used by the e2e test tests/e2e/metrics.rs; its venv is made by scripts/metrics-parser.sh.
"""
import json
import math
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    text = sys.stdin.read()
    families = []
    for family in text_string_to_metric_families(text):
        samples = []
        for sample in family.samples:
            value = sample.value
            if math.isinf(value) or math.isnan(value):
                raise ValueError(f"{sample.name}: value {value}")
            samples.append({"name": sample.name, "labels": sample.labels, "value": value})
        families.append({"name": family.name, "type": family.type, "samples": samples})
    json.dump(families, sys.stdout)


if __name__ == "__main__":
    main()
