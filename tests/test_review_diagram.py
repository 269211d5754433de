"""review/diagram.py: the architecture diagram is drawn from the templates as a readable PNG."""

from matplotlib import image


def test_diagram_is_a_readable_png(default_review):
    diagram = default_review.parent / "architecture.png"
    assert diagram.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    height, width, _ = image.imread(diagram).shape
    assert width >= 1200 and height >= 700
    assert "![architecture](architecture.png)" in default_review.read_text()
