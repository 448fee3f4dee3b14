// The extension card's copy. The seconds and the outcome follow the operator's settings
// (extension_timeout_seconds, extension_default_action_on_timeout), so the card never promises
// what the server will not do.

export function extensionCopy(seconds, defaultAction) {
  const outcome = defaultAction === "auto_reject" ? "ditolak" : "disetujui";
  return `Tidak menjawab dalam ${seconds} detik = otomatis ${outcome}`;
}
