import argparse, email, email.policy, importlib, pydoc, json, csv, io, pprint, string, textwrap, configparser, warnings
warnings.simplefilter("ignore")
parser = argparse.ArgumentParser(prog="tool", description="A tool.")
sub = parser.add_subparsers(dest="command")
for name in ("run", "check", "list"):
    p = sub.add_parser(name, help=name)
    p.add_argument("--count", type=int, default=3)
    p.add_argument("files", nargs="*")
for argv in (["run", "--count", "5", "a", "b"], ["check"], ["list", "x"]):
    parser.parse_args(argv)
parser.format_help()
message = email.message_from_string(
    "From: a@example.com\nTo: b@example.com\nSubject: hello\nContent-Type: text/plain\n\nbody\n",
    policy=email.policy.default)
for _ in range(20):
    message["Subject"]; message.get_content(); message.as_string()
text = ""
for name in """json csv argparse email.message logging wave calendar colorsys textwrap shlex
string fnmatch""".split():
    text += pydoc.render_doc(importlib.import_module(name), renderer=pydoc.plaintext)
for name in """http.client unittest.case asyncio.events xml.dom.minidom sqlite3 tarfile zipfile smtplib
ftplib mailbox optparse difflib decimal fractions statistics pathlib shutil subprocess socket ssl
urllib.request xmlrpc.client http.server imaplib poplib ipaddress uuid tomllib zoneinfo
concurrent.futures multiprocessing.pool wsgiref.simple_server logging.handlers sched shelve
dbm gettext locale pickle pickletools dis inspect ast tokenize traceback pdb bdb cmd code codeop
trace timeit cProfile profile pstats runpy pkgutil modulefinder zipimport zipapp venv compileall
py_compile filecmp fileinput glob fnmatch tempfile netrc plistlib mimetypes mailcap
quopri uu base64 binascii hmac secrets hashlib random bisect heapq queue selectors asyncio
email.mime.multipart email.headerregistry json.tool xml.etree.ElementTree xml.sax http.cookies
http.cookiejar urllib.robotparser logging.config importlib.metadata unittest.mock ctypes
asyncio.subprocess sqlite3.dump tomllib typing dataclasses enum statistics textwrap
wsgiref.validate xml.dom.pulldom xml.sax.saxutils email.mime.image email.mime.audio
encodings.idna encodings.punycode lib2to3.pytree curses tty pty getpass crypt nntplib telnetlib""".split():
    try:
        importlib.import_module(name)
    except Exception:
        pass
out = io.StringIO()
w = csv.writer(out)
for i in range(200):
    w.writerow([i, str(i) * 3, i / 7])
list(csv.reader(io.StringIO(out.getvalue())))
pprint.pformat(json.loads(json.dumps({"rows": [[i] * 5 for i in range(50)]})))
string.Template("$a and $b").substitute(a=1, b=2)
textwrap.fill(text[:5000], 40)
c = configparser.ConfigParser(); c.read_string("[s]\na = 1\nb = two\n"); dict(c["s"])
