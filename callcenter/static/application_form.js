// Ctrl+S (or Cmd+S) saves the application as a draft instead of saving the page.
document.addEventListener("keydown", function (event) {
  if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s") {
    event.preventDefault();
    var form = document.getElementById("application-form");
    var draft = document.getElementById("save-draft");
    if (form.requestSubmit) { form.requestSubmit(draft); } else { draft.click(); }
  }
});
