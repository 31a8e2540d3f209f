// Functions AG Grid column definitions refer to by name (served locally from /assets).
var dagfuncs = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});

// "2025-06-28" -> "2025年6月28日", or "Jun 28, 2025" when the page is in English (<html lang="en">),
// the same shapes the server writes (tracker.i18n.format_date).
var MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
dagfuncs.zhDate = function (value) {
  if (!value) { return ""; }
  var parts = String(value).split("-");
  if (parts.length !== 3) { return String(value); }
  var year = parseInt(parts[0], 10), month = parseInt(parts[1], 10), day = parseInt(parts[2], 10);
  if (document.documentElement.lang === "en") {
    return MONTHS_EN[month - 1] + " " + day + ", " + year;
  }
  return year + "年" + month + "月" + day + "日";
};
