"""The default PDF engine: pdfium spans -> layout -> headings -> blocks (see engine.parse_pdf)."""
