"""The rows of a table of bascule's HTML report, for the report suite.

rows(path, cls) -> the <tr> of <table class="cls">, each a list of its <td>
as [data-ms or None, text]. The header row (<th>) is an empty list.
"""
import html.parser


class _Rows(html.parser.HTMLParser):
    def __init__(self, cls):
        super().__init__()
        self.cls, self.table, self.rows, self.cell = cls, None, [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.table = a.get("class")
        elif tag == "tr" and self.table == self.cls:
            self.rows.append([])
        elif tag == "td" and self.table == self.cls:
            self.cell = [a.get("data-ms"), ""]
            self.rows[-1].append(self.cell)

    def handle_endtag(self, tag):
        if tag == "td":
            self.cell = None
        if tag == "table":
            self.table = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell[1] += data


def rows(path, cls):
    p = _Rows(cls)
    with open(path) as f:
        p.feed(f.read())
    return p.rows
