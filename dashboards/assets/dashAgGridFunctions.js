// Functions AG Grid column definitions refer to by name (served locally from /assets).
var dagfuncs = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});

// "2025-06-28" -> "2025年6月28日"
dagfuncs.zhDate = function (value) {
  if (!value) { return ""; }
  var parts = String(value).split("-");
  if (parts.length !== 3) { return String(value); }
  return parseInt(parts[0], 10) + "年" + parseInt(parts[1], 10) + "月" + parseInt(parts[2], 10) + "日";
};
