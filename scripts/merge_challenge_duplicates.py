"""Writes the Tox21 challenge table with its duplicated training samples merged.

The challenge's training set lists NCGC samples, not structures: 11,764 samples of 8,042
distinct structures (2,953 structures appear two to six times), so a duplicated structure
weighs two to six times as much in the loss as the rest. This script keeps one row per
training structure (the SMILES are RDKit-canonical, so the same structure is the same
string) and merges its labels assay by assay: the measured labels' mean, 1 when it is at
least 0.5 (a tie counts as active), empty when no sample was measured. Validation and test
rows are copied unchanged, in their order, so the test set scored is the same 647
compounds. The merged row keeps the first sample's ID.

Standard library only. Usage:
    python3 scripts/merge_challenge_duplicates.py data/tox21_challenge.csv.gz \
        data/tox21_challenge_merged.csv.gz
"""

import csv
import gzip
import io
import sys


def merged_label(values):
    measured = [int(v) for v in values if v != ""]
    if not measured:
        return ""
    return "1" if 2 * sum(measured) >= len(measured) else "0"


def main(source, target):
    with gzip.open(source, "rt", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    split_at, smiles_at = header.index("split"), header.index("SMILES")
    first_task = smiles_at + 1
    groups = {}
    order = []
    for row in rows:
        if row[split_at] != "train":
            order.append(row)
            continue
        key = row[smiles_at]
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(row)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    conflicts = 0
    for item in order:
        if isinstance(item, list):
            writer.writerow(item)
            continue
        samples = groups[item]
        merged = list(samples[0][:first_task])
        for j in range(first_task, len(header)):
            values = [s[j] for s in samples]
            if len({v for v in values if v != ""}) > 1:
                conflicts += 1
            merged.append(merged_label(values))
        writer.writerow(merged)
    # No name, mtime 0: the same input gives the same bytes.
    with open(target, "wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as f:
        f.write(out.getvalue().encode())
    train = sum(1 for r in rows if r[split_at] == "train")
    print(
        f"{target}: {train} training samples merged into {len(groups)} structures "
        f"({conflicts} assay cells had conflicting labels); "
        f"{len(rows) - train} validation and test rows unchanged"
    )


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
