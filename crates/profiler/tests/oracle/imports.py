import importlib, json, sys, warnings
warnings.simplefilter("ignore")
SKIP = {"antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo", "_tkinter", "__main__"}
names = sorted(sys.stdlib_module_names - SKIP)
names += ["email." + n for n in "message parser policy generator utils headerregistry contentmanager mime.text mime.multipart".split()]
names += ["xml.dom.minidom", "xml.etree.ElementTree", "xml.sax", "http.client", "http.server", "http.cookies",
          "urllib.request", "concurrent.futures", "logging.handlers", "logging.config", "importlib.metadata",
          "json.tool", "unittest.mock", "asyncio", "multiprocessing.pool", "wsgiref.simple_server"]
for name in names:
    try:
        importlib.import_module(name)
    except Exception:
        pass
print(len(json.dumps({"a": list(range(100))})))
