"""The CSP source of each inline <script> of the HTML page on stdin
(`sha256-<base64>`), one a line: what a policy must list to allow them."""
import base64
import hashlib
import re
import sys

html = sys.stdin.read()
for attrs, body in re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S | re.I):
    if "src=" not in attrs:
        digest = hashlib.sha256(body.encode()).digest()
        print("sha256-" + base64.b64encode(digest).decode())
