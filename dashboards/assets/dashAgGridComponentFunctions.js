// Cell renderers AG Grid column definitions refer to by name (served locally from /assets).
var dagcomponentfuncs = (window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {});

// The pilot's name as a link to its page (/pilot?id=N); the id comes from the row, never from text.
dagcomponentfuncs.PilotLink = function (props) {
  var id = props.data && (props.data.pilot_id || props.data.id);
  if (!id) { return props.value || ""; }
  return React.createElement("a", { href: "/pilot?id=" + encodeURIComponent(id) }, props.value);
};

// An archived bulletin's download link (/bulletins/N/download); the id comes from the row.
dagcomponentfuncs.BulletinLink = function (props) {
  var id = props.data && props.data.id;
  if (!id) { return props.value || ""; }
  return React.createElement("a", { href: "/bulletins/" + encodeURIComponent(id) + "/download", download: "" }, props.value);
};

// A notice's link to its object (a path on this site, set by the server: /update-form?…, /flags?id=…).
dagcomponentfuncs.NoticeLink = function (props) {
  var link = props.data && props.data.link;
  if (!link || link.charAt(0) !== "/" || link.charAt(1) === "/") { return ""; }
  return React.createElement("a", { href: link }, props.value);
};
