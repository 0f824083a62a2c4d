// The contact page: as the customer types the subject and description, matching articles
// appear (a pre-ticket search through /api/v1/search, logged under the visitor's session).
(function () {
  "use strict";
  var form = document.getElementById("contact-form");
  var box = document.getElementById("live-suggestions");
  if (!form || !box) return;
  var list = box.querySelector("ul");
  var subject = document.getElementById("subject");
  var description = document.getElementById("description");
  var checked = document.getElementById("checked");
  var session = box.getAttribute("data-session") || "";
  var timer = null;
  var last = "";

  function item(r) {
    var li = document.createElement("li");
    var a = document.createElement("a");
    a.href = r.url;
    a.textContent = r.title;
    var p = document.createElement("p");
    p.textContent = r.summary;
    var f = document.createElement("form");
    f.method = "post";
    f.action = "/contact/answered";
    var slug = document.createElement("input");
    slug.type = "hidden"; slug.name = "slug"; slug.value = r.slug;
    var subj = document.createElement("input");
    subj.type = "hidden"; subj.name = "subject"; subj.value = subject.value;
    var b = document.createElement("button");
    b.type = "submit";
    b.textContent = "This answered my question";
    f.appendChild(slug); f.appendChild(subj); f.appendChild(b);
    li.appendChild(a); li.appendChild(p); li.appendChild(f);
    return li;
  }

  function search() {
    var q = (subject.value + " " + description.value).trim().slice(0, 250);
    if (q.length < 4 || q === last) return;
    last = q;
    var url = "/api/v1/search?limit=4&q=" + encodeURIComponent(q) +
      (session ? "&session_id=" + encodeURIComponent(session) : "");
    fetch(url, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        while (list.firstChild) list.removeChild(list.firstChild);
        data.results.forEach(function (r) { list.appendChild(item(r)); });
        box.hidden = data.results.length === 0;
        // The customer has seen the suggestions: the server need not show them again.
        if (data.results.length) checked.value = "1";
      })
      .catch(function () {});
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(search, 400);
  }
  subject.addEventListener("input", later);
  description.addEventListener("input", later);
  if (subject.value || description.value) later();
})();
