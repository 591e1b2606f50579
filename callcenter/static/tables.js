// Tables that do not fit the screen become cards: a table wider than the space it has (a
// phone, or many columns) gets the class "cards", which console.css shows as a card per row
// and a line per cell, the cell's column header before it. The headers are copied from the
// page's own <th> into each cell's data-label, so they are in the page's language. Rows a
// page rebuilds by itself (queue.js, wallboard.js, outages.js, campaigns.js) are labelled
// and measured again each time, and every table is measured again when the window resizes.
(function () {
  "use strict";
  var tables = [];

  function text(cell) {
    return cell.textContent.replace(/\s+/g, " ").trim();
  }

  // The header text of each column, colspans spread over the columns they cover.
  function headers(table) {
    var rows = table.tHead ? table.tHead.rows : [];
    if (!rows.length) { return []; }
    var names = [];
    Array.prototype.forEach.call(rows[rows.length - 1].cells, function (cell) {
      for (var span = 0; span < cell.colSpan; span += 1) { names.push(text(cell)); }
    });
    return names;
  }

  function labelRows(rows, names) {
    Array.prototype.forEach.call(rows, function (row) {
      var column = 0;
      Array.prototype.forEach.call(row.cells, function (cell) {
        // A cell across the whole row ("No callback is waiting.") has no single header.
        var name = cell.colSpan >= names.length ? "" : names[column] || "";
        if (name) {
          if (cell.getAttribute("data-label") !== name) { cell.setAttribute("data-label", name); }
        } else if (cell.hasAttribute("data-label")) {
          cell.removeAttribute("data-label");
        }
        column += cell.colSpan;
      });
    });
  }

  function label(table, names) {
    Array.prototype.forEach.call(table.tBodies, function (body) { labelRows(body.rows, names); });
    if (table.tFoot) { labelRows(table.tFoot.rows, names); }
  }

  // Cards when the table laid out as a table is wider than its container's content box.
  function fit(table) {
    var holder = table.parentElement;
    var style = window.getComputedStyle(holder);
    var room = holder.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    table.classList.remove("cards");
    if (table.getBoundingClientRect().width > room + 0.5) { table.classList.add("cards"); }
  }

  function watch(table) {
    var names = headers(table);
    if (!names.length) { return; }
    label(table, names);
    fit(table);
    tables.push(table);
    // Attributes and classes add or remove no node, so this observer never wakes itself.
    new MutationObserver(function () {
      label(table, names);
      fit(table);
    }).observe(table, { childList: true, subtree: true });
  }

  Array.prototype.forEach.call(document.querySelectorAll("main table"), watch);

  var pending = false;
  window.addEventListener("resize", function () {
    if (pending) { return; }
    pending = true;
    window.requestAnimationFrame(function () {
      pending = false;
      tables.forEach(fit);
    });
  });
})();
