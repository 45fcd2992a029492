"""axe-core's WCAG rules over the pages of a browser test, and the contrast
checks axe leaves to a person.

    walk = AxeWalk(phone=True)
    walk.check("inbox", page)          # a page or a frame, once it has drawn
    walk.check("bubble", page, "customer-service-widget")   # only that part
    if walk.found:
        pytest.fail(walk.report(), pytrace=False)

axe-core's script comes from the `axe-playwright-python` package. At phone
width the walk also checks that the page does not scroll sideways (WCAG
1.4.10), which axe does not.
"""

from __future__ import annotations

import re

from axe_playwright_python.sync_playwright import Axe

AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations", "incomplete"],
    # The widget's frame is a document of its own, checked on its own.
    "iframes": False,
}
# Colours axe leaves undecided (text in SVG, text over a dialog's backdrop)
# are measured from the computed styles: the text's colour (an SVG text's
# fill) on the nearest background that is not transparent.
COLOURS = """selector => {
    const node = document.querySelector(selector);
    if (!node) return null;
    const style = getComputedStyle(node);
    let box = node;
    const clear = (colour) => colour === 'rgba(0, 0, 0, 0)' || colour === 'transparent';
    while (box.parentElement && clear(getComputedStyle(box).backgroundColor)) {
        box = box.parentElement;
    }
    return {
        ink: node instanceof SVGElement ? style.fill : style.color,
        paper: getComputedStyle(box).backgroundColor,
        px: parseFloat(style.fontSize),
        bold: Number(style.fontWeight) >= 700,
    };
}"""


class AxeWalk:
    """Runs axe on page after page and keeps what each one violated."""

    def __init__(self, phone: bool = False):
        self.axe_script = Axe().axe_script
        self.phone = phone
        self.found: dict[str, list[dict]] = {}

    def check(self, name: str, target, context: str | None = None) -> None:
        results = self.run_axe(target, context)
        found = results["violations"] + self.measure_contrast(target, results)
        if found:
            self.found[name] = found
        if self.phone:
            self.check_reflow(name, target)

    def run_axe(self, target, context: str | None) -> dict:
        # Once per document: the admin pages change page without loading one.
        # Playwright's evaluate is not page script, so the CSP allows it.
        if not target.evaluate("() => 'axe' in window"):
            target.evaluate(self.axe_script)
        return target.evaluate(
            "([context, options]) => axe.run(context || document, options)",
            [context, AXE_OPTIONS],
        )

    def measure_contrast(self, target, results: dict) -> list[dict]:
        failing = []
        for item in results["incomplete"]:
            if item["id"] != "color-contrast":
                continue
            for node in item["nodes"]:
                ratio, needed = contrast_of(target, node["target"])
                if ratio < needed:
                    failing.append({**node, "ratio": ratio})
        if not failing:
            return []
        return [
            {
                "id": "color-contrast (measured)",
                "impact": "serious",
                "help": "Text below AA contrast: "
                + ", ".join(f"{node['ratio']:.2f}" for node in failing),
                "nodes": failing,
            }
        ]

    def check_reflow(self, name: str, target) -> None:
        # A box of its own may scroll sideways; axe checks that the keyboard
        # can scroll it.
        overflow = target.evaluate(
            "() => document.documentElement.scrollWidth"
            " - document.documentElement.clientWidth"
        )
        if overflow > 0:
            self.found.setdefault(name, []).append(
                {
                    "id": "reflow",
                    "impact": "serious",
                    "help": f"The page scrolls sideways by {overflow}px",
                    "nodes": [],
                }
            )

    def report(self) -> str:
        lines = []
        for name, violations in self.found.items():
            for violation in violations:
                lines.append(
                    f"{name}: {violation['id']} ({violation['impact']}):"
                    f" {violation['help']}"
                )
                lines.extend(
                    f"    {' > '.join(map(str, node['target']))}"
                    for node in violation["nodes"]
                )
        return "\n".join(lines)


def contrast_of(target, selectors: list) -> tuple[float, float]:
    """The contrast of the text axe's target names, and what AA asks of text
    of its size. A target inside a shadow root or frame (a list of
    selectors) is not measured: it counts as failing."""
    colours = target.evaluate(COLOURS, selectors[0]) if len(selectors) == 1 else None
    if colours is None:
        return 0.0, 4.5
    ratio = contrast_ratio(rgb(colours["ink"]), rgb(colours["paper"]))
    large = colours["px"] >= 24 or (colours["bold"] and colours["px"] >= 18.66)
    return ratio, 3.0 if large else 4.5


def contrast_ratio(ink: tuple[float, ...], paper: tuple[float, ...]) -> float:
    """WCAG 2's contrast ratio of two sRGB colours, from 1 to 21."""
    darker, lighter = sorted([relative_luminance(ink), relative_luminance(paper)])
    return (lighter + 0.05) / (darker + 0.05)


def relative_luminance(colour: tuple[float, ...]) -> float:
    def linear(channel: float) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(channel) for channel in colour[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def rgb(css_colour: str) -> tuple[float, ...]:
    """(r, g, b) of a computed colour such as `rgb(17, 24, 39)`."""
    return tuple(float(number) for number in re.findall(r"[\d.]+", css_colour)[:3])
