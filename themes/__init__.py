"""Vista's Textual themes: dark (default), light and high-contrast.

The `.tcss` files next to this module refer only to theme variables, so a
theme switch restyles the whole console.
"""

from __future__ import annotations

from pathlib import Path

from textual.theme import Theme

#: The console's stylesheet: the app's CSS_PATH.
STYLESHEET = Path(__file__).with_name("vista.tcss")

DARK = Theme(
    name="vista-dark",
    primary="#4EA1D3",
    secondary="#7C9CBF",
    accent="#E8A33D",
    warning="#E8A33D",
    error="#E5534B",
    success="#57AB5A",
    foreground="#D8DEE4",
    background="#14181D",
    surface="#1B2027",
    panel="#242B34",
    dark=True,
)

LIGHT = Theme(
    name="vista-light",
    primary="#0B62A4",
    secondary="#4A6785",
    accent="#B35900",
    warning="#9A6700",
    error="#B42318",
    success="#1A7F37",
    foreground="#1F2328",
    background="#F6F8FA",
    surface="#FFFFFF",
    panel="#E6EAEF",
    dark=False,
)

HIGH_CONTRAST = Theme(
    name="vista-contrast",
    primary="#FFFF00",
    secondary="#00FFFF",
    accent="#FF00FF",
    warning="#FFFF00",
    error="#FF5555",
    success="#00FF00",
    foreground="#FFFFFF",
    background="#000000",
    surface="#000000",
    panel="#1A1A1A",
    boost="#333333",
    dark=True,
    luminosity_spread=0.3,
    text_alpha=1.0,
)

THEMES: tuple[Theme, ...] = (DARK, LIGHT, HIGH_CONTRAST)
DEFAULT_THEME = DARK.name
THEME_NAMES: tuple[str, ...] = tuple(t.name for t in THEMES)
