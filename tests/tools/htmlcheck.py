#!/usr/bin/python3
# htmlcheck.py FILE - a strict look at an HTML page that must stand alone:
# the HTML5 doctype, a lang, a charset and a title; every element closed in
# order (void elements excepted); no bare '&' or '<' in text or attributes;
# nothing fetched (no script, link, iframe, img, object, no src=, no
# external href or url()); each inline <svg> well-formed XML. Exit 1 with
# the problems, one a line.
import html.parser
import re
import sys
import xml.etree.ElementTree as ET

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
        "source", "track", "wbr"}
FORBIDDEN = {"script", "link", "iframe", "img", "object", "embed", "frame", "base"}


class Check(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.stack, self.problems = [], []
        self.seen = set()
        self.svg_depth = 0

    def where(self):
        return "line %d" % self.getpos()[0]

    def handle_decl(self, decl):
        if decl.lower() == "doctype html":
            self.seen.add("doctype")

    def handle_starttag(self, tag, attrs):
        self.seen.add(tag)
        if tag in FORBIDDEN:
            self.problems.append("%s: <%s> (the page must not fetch or run anything)" % (self.where(), tag))
        for k, v in attrs:
            if k == "src" or (k in ("href", "xlink:href") and v and not v.startswith("#")):
                self.problems.append("%s: %s=%r points outside the page" % (self.where(), k, v))
            if k.startswith("on"):
                self.problems.append("%s: event handler %s" % (self.where(), k))
            if tag == "html" and k == "lang" and v:
                self.seen.add("lang")
            if tag == "meta" and k == "charset" and v.lower() == "utf-8":
                self.seen.add("charset")
        if self.stack and self.stack[-1] == "p" and tag in ("div", "table", "ul", "ol", "section", "p", "figure"):
            self.problems.append("%s: <%s> inside <p>" % (self.where(), tag))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        # <x/> is fine inside SVG only
        if tag not in VOID and "svg" not in self.stack:
            self.problems.append("%s: self-closed <%s/> outside SVG" % (self.where(), tag))
        saved = list(self.stack)
        self.handle_starttag(tag, attrs)
        self.stack = saved

    def handle_endtag(self, tag):
        if tag in VOID:
            self.problems.append("%s: </%s> closes a void element" % (self.where(), tag))
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append("%s: </%s> but <%s> is open" % (self.where(), tag, self.stack[-1] if self.stack else "nothing"))
            if tag in self.stack:
                while self.stack.pop() != tag:
                    pass
            return
        self.stack.pop()

    def handle_data(self, data):
        if "<" in data or ("&" in data and self.stack and self.stack[-1] not in ("style",)):
            self.problems.append("%s: unescaped '<' or '&' in text: %r" % (self.where(), data[:40]))
        if self.stack and self.stack[-1] == "style" and re.search(r"url\((?!#)|@import", data):
            self.problems.append("%s: the style sheet fetches something" % self.where())

    def handle_entityref(self, name):
        if name not in ("amp", "lt", "gt", "quot", "nbsp", "apos"):
            self.problems.append("%s: unknown entity &%s;" % (self.where(), name))


def main():
    text = open(sys.argv[1], encoding="utf-8").read()
    c = Check()
    c.feed(text)
    c.close()
    p = c.problems
    if c.stack:
        p.append("not closed at the end: %s" % " ".join("<%s>" % t for t in c.stack))
    for need in ("doctype", "lang", "charset", "title", "html", "head", "body"):
        if need not in c.seen:
            p.append("missing: %s" % need)
    svgs = re.findall(r"<svg\b.*?</svg>", text, re.S)
    for i, svg in enumerate(svgs):
        try:
            ET.fromstring(svg.replace("&nbsp;", "&#160;"))
        except ET.ParseError as e:
            p.append("svg %d is not well-formed XML: %s" % (i + 1, e))
    for line in p:
        print(line)
    if not p:
        print("= %d elements checked, %d svg(s) well-formed" % (len(c.seen), len(svgs)))
    sys.exit(1 if p else 0)


main()
