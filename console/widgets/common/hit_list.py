"""The search results list: Textual's `OptionList`, drawn for one-line results.

It looks and behaves exactly like an `OptionList` (same strips, styles, padding,
ellipsis, mouse meta); only the drawing of a one-line option is done directly and
kept across keystrokes. Type-ahead replaces all options on every key, and most
results come back on the next key at the same place: those are not drawn again.
The offsets Textual's text selection needs go only into the lines its mouse hit
test asks for, not into every painted segment.
"""

from __future__ import annotations

from rich.segment import Segment
from textual.content import Content
from textual.geometry import Region
from textual.strip import Strip
from textual.style import Style
from textual.widgets import OptionList
from textual.widgets.option_list import Option

#: Drawn options kept across keystrokes (a few screens of results).
KEEP = 256


class HitList(OptionList):
    """An OptionList of one-line `Content` prompts, drawn cheaply."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._drawn: dict[tuple[object, ...], list[Strip]] = {}
        self._painting = False

    def render_lines(self, crop: Region) -> list[Strip]:
        self._painting = True
        try:
            return super().render_lines(crop)
        finally:
            self._painting = False

    def _one_line(self, option: Option) -> Content | None:
        """The option's prompt when the fast drawing applies to it, else None."""
        prompt = option.prompt
        styles = self.styles
        if (
            not isinstance(prompt, Content)
            or "\n" in prompt.plain
            or option._divider
            or self.text_selection is not None
            or styles.text_wrap != "nowrap"
            or styles.text_overflow != "ellipsis"
            or styles.text_align not in ("left", "start")
            or styles.line_pad
            or styles.content_align != ("left", "top")
        ):
            return None
        return prompt

    def _get_option_render(self, option: Option, style: Style) -> list[Strip]:
        prompt = self._one_line(option)
        padding = self.get_component_styles("option-list--option").padding
        if prompt is None or padding.top or padding.bottom:
            return super()._get_option_render(option, style)
        width = self.scrollable_content_region.width - self._get_left_gutter_width()
        index = self._option_to_index[option]
        offsets = not self._painting  # a mouse hit test: the selection offsets too
        key = (
            prompt.plain,
            tuple(prompt.spans),
            index,
            style,
            padding,
            width,
            offsets,
            self.app.theme,
        )
        strips = self._drawn.get(key)
        if strips is None:
            strips = self._draw(prompt, index, style, padding.left, padding.right, width, offsets)
            if len(self._drawn) >= KEEP:
                self._drawn.clear()
            self._drawn[key] = strips
        return strips

    def _draw(
        self,
        prompt: Content,
        index: int,
        style: Style,
        left: int,
        right: int,
        width: int,
        offsets: bool,
    ) -> list[Strip]:
        """What `OptionList` draws for a one-line prompt (Padding, nowrap, ellipsis)."""
        inner = width - left - right
        if inner <= 0:
            return []
        line = prompt.expand_tabs(8).truncate(inner, ellipsis=True)
        segments = []
        x = 0
        for text, text_style in line.render(style, end="", parse_style=self._get_style):
            combined = style + text_style
            segments.append(
                Segment(
                    text, combined.rich_style_with_offset(x, 0) if offsets else combined.rich_style
                )
            )
            x += len(text)
        rich_style = style.rich_style
        strip = Strip(segments, line.cell_length).crop_pad(inner, left, right, rich_style)
        return [strip.extend_cell_length(width, rich_style).apply_meta({"option": index})]
