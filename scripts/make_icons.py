"""Draw the portal's icons (home screen, favicon) with Pillow: `.venv/bin/python scripts/make_icons.py`.
The PNGs are committed; rerun only to change the design."""

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

OUT = Path(__file__).resolve().parents[1] / "static" / "icons"
BLUE, WHITE, RED = (11, 61, 145), (255, 255, 255), (176, 42, 55)
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def icon(size: int, *, maskable: bool = False) -> Image.Image:
    image = Image.new("RGB", (size, size), BLUE)
    draw = ImageDraw.Draw(image)
    inset = size * (0.2 if maskable else 0.1)
    # A round pump with a red reservoir port in the middle, and the letters below it.
    box = (inset, inset, size - inset, size - inset)
    draw.ellipse(box, fill=WHITE)
    port = size * 0.11
    centre = size / 2
    draw.ellipse((centre - port, centre - port * 2.2, centre + port, centre - port * 0.2), fill=RED)
    font = ImageFont.truetype(FONT, int(size * (0.16 if maskable else 0.2)))
    text = "ITB"
    width = draw.textlength(text, font=font)
    draw.text((centre - width / 2, centre + port * 0.2), text, font=font, fill=BLUE)
    return image


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        icon(size).save(OUT / f"icon-{size}.png", optimize=True)
    icon(512, maskable=True).save(OUT / "icon-maskable-512.png", optimize=True)
    icon(180).save(OUT / "apple-touch-icon.png", optimize=True)
    icon(64).save(OUT / "favicon.ico", sizes=[(16, 16), (32, 32), (48, 48), (64, 64)])


if __name__ == "__main__":
    main()
