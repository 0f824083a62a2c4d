"""Loads a Deflect content directory into Meilisearch as an `articles` index, for
benches/vs_meilisearch.sh: one document per published article (slug, title, keywords, summary,
headings, body), the searchable attributes in Deflect's weight order, English stop words, and
waits until Meilisearch has indexed everything. Standard library only."""
import json, os, re, sys, time, urllib.request

content, url = sys.argv[1], sys.argv[2].rstrip("/")
STOP = ("a about am an and any are as at be been but by can could did do does for from get got had has "
        "have he her here hi him his how i if in into is it its just let me might my of on or our please "
        "she should so some than that the their them then there these they this those to too us was we "
        "were what when where which who will with would you your").split()


def front_matter(src):
    if not src.startswith("---"):
        return {}, src
    end = src.find("\n---", 3)
    head, body = src[3:end], src[end + 4:]
    meta, key = {}, None
    for line in head.splitlines():
        m = re.match(r"^([a-z_]+):\s*(.*)$", line)
        if m:
            key, value = m.group(1), m.group(2).strip()
            if value.startswith("[") and value.endswith("]"):
                meta[key] = [v.strip().strip("'\"") for v in value[1:-1].split(",") if v.strip()]
            else:
                meta[key] = value.strip("'\"")
        elif key and line.strip().startswith("- "):
            meta.setdefault(key, [])
            if isinstance(meta[key], list):
                meta[key].append(line.strip()[2:].strip("'\""))
    return meta, body


docs = []
for root, dirs, files in os.walk(content):
    dirs[:] = [d for d in dirs if not d.startswith(".")]
    for name in sorted(files):
        if not name.endswith(".md") or (root == content and name.lower() == "readme.md"):
            continue
        meta, body = front_matter(open(os.path.join(root, name), encoding="utf-8").read())
        if meta.get("status", "published") != "published":
            continue
        headings = [l.lstrip("#").strip() for l in body.splitlines() if l.startswith("#")]
        keywords = meta.get("keywords", [])
        docs.append({
            "id": name[:-3],
            "title": meta.get("title", ""),
            "keywords": keywords if isinstance(keywords, list) else [keywords],
            "summary": meta.get("summary", ""),
            "headings": headings,
            "body": re.sub(r"[#*`>|_\[\]()]", " ", body),
        })


def call(method, path, payload=None):
    data = None if payload is None else json.dumps(payload).encode()
    req = urllib.request.Request(url + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)


def wait(task):
    while True:
        t = call("GET", f"/tasks/{task['taskUid']}")
        if t["status"] in ("succeeded", "failed", "canceled"):
            if t["status"] != "succeeded":
                sys.exit(f"meilisearch task failed: {t.get('error')}")
            return
        time.sleep(0.2)


started = time.time()
wait(call("POST", "/indexes", {"uid": "articles", "primaryKey": "id"}))
wait(call("PATCH", "/indexes/articles/settings", {
    "searchableAttributes": ["keywords", "title", "summary", "body", "headings"],
    "stopWords": STOP,
}))
tasks = [call("POST", "/indexes/articles/documents", docs[i:i + 5000]) for i in range(0, len(docs), 5000)]
for t in tasks:
    wait(t)
print(f"Meilisearch: {len(docs)} articles indexed in {time.time() - started:.1f} s", file=sys.stderr)
