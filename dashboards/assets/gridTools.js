// 表格工具栏: every AG Grid of the app gets a column chooser (选择列) and an Excel export (导出Excel)
// above it, added here once for all pages. The export sends the rows as the user sees them (after
// filters and sorting, visible columns in their order) to /export/grid.xlsx, which writes the
// workbook on the server (text stays text) and records the export in the audit log.
(function () {
  "use strict";

  // The toolbar's words in the page's language (<html lang>, set by the server from the reader's choice).
  var WORDS = {
    zh: {columns: "选择列", excel: "导出所见(Excel)", excelTitle: "按当前的筛选、排序和列导出本表",
         table: "表格", failed: "导出失败："},
    en: {columns: "Columns", excel: "Export visible rows (Excel)",
         excelTitle: "Export this table with its current filters, sorting and columns", table: "Table",
         failed: "Export failed: "}
  };
  function word(key) {
    return WORDS[document.documentElement.lang === "en" ? "en" : "zh"][key];
  }

  function gridApi(id) {
    try { return window.dash_ag_grid && window.dash_ag_grid.getApi(id); } catch (e) { return null; }
  }

  function header(column) {
    var def = column.getColDef();
    return def.headerName || def.field || column.getColId();
  }

  function isDate(column) {
    var formatter = column.getColDef().valueFormatter;
    return Boolean(formatter && formatter.function && formatter.function.indexOf("zhDate") === 0);
  }

  function pageTitle() {
    var heading = document.querySelector("#_pages_content h2");
    return (heading ? heading.textContent : document.title || word("table")).trim();
  }

  function exportGrid(id, button) {
    var api = gridApi(id);
    if (!api) { return; }
    var columns = api.getAllDisplayedColumns().filter(function (c) { return header(c) !== ""; });
    var rows = [];
    // A grid paged by the server (infinite row model) is already filtered and sorted there: the
    // rows it has loaded are the ones shown.
    var each = api.getGridOption("rowModelType") === "infinite" ? "forEachNode" : "forEachNodeAfterFilterAndSort";
    api[each](function (node) {
      if (!node.data) { return; }
      rows.push(columns.map(function (c) {
        var value = api.getCellValue({ rowNode: node, colKey: c, useFormatter: false });
        return (value === undefined || typeof value === "object" && value !== null) ? (value === undefined ? null : String(value)) : value;
      }));
    });
    var body = { grid: id, title: pageTitle(), columns: columns.map(header),
                 dates: columns.map(isDate), rows: rows };
    button.disabled = true;
    fetch("/export/grid.xlsx", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-Requested-With": "tracker-grid" },
      body: JSON.stringify(body)
    }).then(function (response) {
      if (!response.ok) {
        return response.json().then(function (error) { throw new Error(error.message || response.status); });
      }
      var name = decodeURIComponent((response.headers.get("X-Filename") || "export.xlsx"));
      return response.blob().then(function (blob) {
        var link = document.createElement("a");
        link.href = URL.createObjectURL(blob);
        link.download = name;
        document.body.appendChild(link);
        link.click();
        setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
      });
    }).catch(function (error) {
      window.alert(word("failed") + error.message);
    }).finally(function () { button.disabled = false; });
  }

  function fillChooser(id, menu) {
    var api = gridApi(id);
    menu.innerHTML = "";
    if (!api) { return; }
    api.getColumns().forEach(function (column) {
      var name = header(column);
      if (!name) { return; }
      var label = document.createElement("label");
      label.className = "dropdown-item small mb-0";
      var box = document.createElement("input");
      box.type = "checkbox";
      box.className = "form-check-input me-2";
      box.checked = column.isVisible();
      box.addEventListener("change", function () { api.setColumnsVisible([column.getColId()], box.checked); });
      label.appendChild(box);
      label.appendChild(document.createTextNode(name));
      menu.appendChild(label);
    });
  }

  function addToolbar(grid) {
    var id = grid.id;
    if (!id || grid.dataset.tools || grid.closest(".no-grid-tools")) { return; }
    grid.dataset.tools = "1";
    var bar = document.createElement("div");
    bar.className = "grid-tools d-flex justify-content-end gap-1 mb-1";
    bar.id = id + "-tools";
    var chooser = document.createElement("div");
    chooser.className = "dropdown";
    var toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "btn btn-outline-secondary btn-sm dropdown-toggle";
    toggle.textContent = word("columns");
    toggle.id = id + "-columns";
    var menu = document.createElement("div");
    menu.className = "dropdown-menu dropdown-menu-end p-1";
    menu.style.maxHeight = "320px";
    menu.style.overflowY = "auto";
    toggle.addEventListener("click", function (event) {
      event.stopPropagation();
      var open = menu.classList.toggle("show");
      if (open) { fillChooser(id, menu); menu.style.position = "absolute"; menu.style.right = "0"; }
    });
    menu.addEventListener("click", function (event) { event.stopPropagation(); });
    chooser.style.position = "relative";
    chooser.appendChild(toggle);
    chooser.appendChild(menu);
    var excel = document.createElement("button");
    excel.type = "button";
    excel.className = "btn btn-outline-success btn-sm";
    excel.textContent = word("excel");
    excel.title = word("excelTitle");
    excel.id = id + "-excel";
    excel.addEventListener("click", function () { exportGrid(id, excel); });
    bar.appendChild(chooser);
    bar.appendChild(excel);
    grid.parentNode.insertBefore(bar, grid);
  }

  function scan() {
    document.querySelectorAll("div.ag-theme-quartz[id]").forEach(addToolbar);
  }

  // One listener for every toolbar (grids come and go with the pages): a click elsewhere closes them.
  document.addEventListener("click", function () {
    document.querySelectorAll(".grid-tools .dropdown-menu.show").forEach(function (m) { m.classList.remove("show"); });
  });
  new MutationObserver(scan).observe(document.documentElement, { childList: true, subtree: true });
  document.addEventListener("DOMContentLoaded", scan);
})();
