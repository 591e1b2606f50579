// Keeps the outage list fresh, unless the supervisor is typing in it.
(function () {
  "use strict";
  var table = document.getElementById("outages");
  if (!table) { return; }
  var source = table.dataset.source;
  var seconds = parseInt(table.dataset.refreshSeconds, 10) || 30;
  var body = table.querySelector("tbody");
  var stamp = document.getElementById("outages-refreshed");
  var words = document.body.dataset;  // in the page's language (base.html)

  function refresh() {
    if (body.contains(document.activeElement)) { return; }
    fetch(source, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.text();
      })
      .then(function (html) {
        if (body.contains(document.activeElement)) { return; }
        var holder = document.createElement("tbody");
        holder.innerHTML = html;
        body.replaceChildren.apply(body, Array.prototype.slice.call(holder.childNodes));
        stamp.textContent = (words.updated || "Updated") + " " + new Date().toLocaleTimeString();
      })
      .catch(function () { stamp.textContent = words.refreshFailed || "Could not refresh; retrying."; });
  }
  window.setInterval(refresh, seconds * 1000);
}());
