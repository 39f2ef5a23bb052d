#!/usr/bin/env python3
"""Turns the JSON lines of benches/side_by_side/run.sh into a Markdown table
of ratios and an SVG plot (throughput and p99 latency against concurrency,
one line per client). Standard library only.

Usage: report.py RESULTS.jsonl TABLE.md PLOT.svg

Each input line is one run: the `mtproto bench --json` object plus "client"
("ours", "telethon ...", "mtcute ...") or, for a client that could not run,
{"client": ..., "concurrency": C, "skipped": "why"}.
"""

import json
import math
import sys

OURS = "ours"
COLOURS = ["#1f6feb", "#d1242f", "#1a7f37", "#8250df", "#bf8700"]


def load(path):
    runs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                runs.append(json.loads(line))
    return runs


def clients_in_order(runs):
    names = []
    for r in runs:
        if r["client"] not in names:
            names.append(r["client"])
    names.sort(key=lambda n: (n != OURS, n))
    return names


def by_key(runs):
    return {(r["client"], r["concurrency"]): r for r in runs}


def fmt_rps(x):
    return f"{x / 1000:.1f}k" if x >= 1000 else f"{x:.0f}"


def fmt_us(x):
    return f"{x / 1000:.2f} ms" if x >= 1000 else f"{x} µs"


def table(runs):
    names = clients_in_order(runs)
    peers = [n for n in names if n != OURS]
    concs = sorted({r["concurrency"] for r in runs})
    runs_by = by_key(runs)
    head = ["concurrency"]
    for n in names:
        head += [f"{n} rpc/s", f"{n} p99"]
    head += [f"ours ÷ {n.split()[0]} (rpc/s)" for n in peers]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in concs:
        row = [str(c)]
        for n in names:
            r = runs_by.get((n, c))
            if r is None or "skipped" in r:
                row += ["—", "—"]
            else:
                errs = f" ({r['errors']} errors)" if r.get("errors") else ""
                row += [fmt_rps(r["rps"]) + errs, fmt_us(r["latency_us"]["p99"])]
        ours = runs_by.get((OURS, c))
        for n in peers:
            r = runs_by.get((n, c))
            if ours is None or "skipped" in ours or r is None or "skipped" in r or r["rps"] <= 0:
                row.append("—")
            else:
                row.append(f"**{ours['rps'] / r['rps']:.1f}x**")
        lines.append("| " + " | ".join(row) + " |")
    notes = []
    for n in names:
        hs = [r for r in runs if r["client"] == n and "skipped" not in r]
        if hs:
            ms = sorted(r["handshake_ms"]["p50"] for r in hs)
            notes.append(f"{n}: handshake {ms[len(ms) // 2]:.1f} ms (median of {len(ms)})")
    skipped = sorted({f"{r['client']}: {r['skipped']}" for r in runs if "skipped" in r})
    out = "\n".join(lines) + "\n"
    if notes:
        out += "\n" + "; ".join(notes) + ".\n"
    for s in skipped:
        out += f"\nnot run: {s}\n"
    return out


def svg(runs):
    """Two panels side by side: rpc/s and p99 latency, log-log axes."""
    names = clients_in_order(runs)
    concs = sorted({r["concurrency"] for r in runs})
    runs_by = by_key(runs)
    w, h, pad_l, pad_r, pad_t, pad_b = 380, 280, 64, 16, 36, 44
    total_w = 2 * w + 150
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_w}" height="{h}" '
        f'viewBox="0 0 {total_w} {h}" font-family="sans-serif" font-size="12">',
        f'<rect width="{total_w}" height="{h}" fill="white"/>',
    ]

    def panel(x0, title, value, unit_fmt):
        vals = [value(r) for r in runs if "skipped" not in r and value(r) > 0]
        if not vals or not concs:
            return
        lo = 10 ** math.floor(math.log10(min(vals)))
        hi = 10 ** math.ceil(math.log10(max(vals)))
        if hi <= lo:
            hi = lo * 10
        cx_lo, cx_hi = math.log2(concs[0]), math.log2(concs[-1])
        if cx_hi <= cx_lo:
            cx_hi = cx_lo + 1
        iw, ih = w - pad_l - pad_r, h - pad_t - pad_b

        def px(c):
            return x0 + pad_l + (math.log2(c) - cx_lo) / (cx_hi - cx_lo) * iw

        def py(v):
            return pad_t + ih - (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)) * ih

        parts.append(f'<text x="{x0 + pad_l}" y="20" font-weight="bold">{title}</text>')
        parts.append(f'<rect x="{x0 + pad_l}" y="{pad_t}" width="{iw}" height="{ih}" '
                     'fill="none" stroke="#888"/>')
        d = lo
        while d <= hi * 1.0001:
            y = py(d)
            parts.append(f'<line x1="{x0 + pad_l}" y1="{y:.1f}" x2="{x0 + pad_l + iw}" '
                         f'y2="{y:.1f}" stroke="#ddd"/>')
            parts.append(f'<text x="{x0 + pad_l - 6}" y="{y + 4:.1f}" text-anchor="end">'
                         f'{unit_fmt(d)}</text>')
            d *= 10
        for c in concs:
            x = px(c)
            parts.append(f'<text x="{x:.1f}" y="{pad_t + ih + 16}" text-anchor="middle">{c}</text>')
        parts.append(f'<text x="{x0 + pad_l + iw / 2}" y="{h - 8}" text-anchor="middle">'
                     'calls in flight (one connection)</text>')
        for i, n in enumerate(names):
            colour = COLOURS[i % len(COLOURS)]
            pts = [(px(c), py(value(runs_by[(n, c)]))) for c in concs
                   if (n, c) in runs_by and "skipped" not in runs_by[(n, c)]
                   and value(runs_by[(n, c)]) > 0]
            if len(pts) > 1:
                path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
                parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                             'stroke-width="2"/>')
            for x, y in pts:
                parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>')

    def rps_fmt(v):
        return f"{v / 1000:g}k" if v >= 1000 else f"{v:g}"

    def us_fmt(v):
        return f"{v / 1000:g} ms" if v >= 1000 else f"{v:g} µs"

    panel(0, "throughput (calls/s, higher is better)", lambda r: r["rps"], rps_fmt)
    panel(w, "p99 latency (lower is better)", lambda r: r["latency_us"]["p99"], us_fmt)
    for i, n in enumerate(names):
        y = pad_t + 10 + i * 20
        colour = COLOURS[i % len(COLOURS)]
        parts.append(f'<line x1="{2 * w + 10}" y1="{y}" x2="{2 * w + 30}" y2="{y}" '
                     f'stroke="{colour}" stroke-width="2"/>')
        label = "mtproto-rs" if n == OURS else n
        parts.append(f'<text x="{2 * w + 36}" y="{y + 4}">{label}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    runs = load(argv[1])
    with open(argv[2], "w", encoding="utf-8") as f:
        f.write(table(runs))
    with open(argv[3], "w", encoding="utf-8") as f:
        f.write(svg(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
