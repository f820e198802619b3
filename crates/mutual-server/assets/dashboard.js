// Progressive enhancement only: the form works without this. A chosen or dropped file is
// read in the browser and put into the text area (PEM as text, anything else as base64),
// so that binary DER and PKCS#12 files can be decoded too.
(function () {
  var area = document.getElementById("input");
  var file = document.getElementById("file");
  if (!area || !file) return;
  function load(f) {
    var reader = new FileReader();
    reader.onload = function () {
      var bytes = new Uint8Array(reader.result);
      var text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
      if (text.indexOf("-----BEGIN") >= 0) { area.value = text; return; }
      var binary = "";
      for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
      area.value = btoa(binary);
    };
    reader.readAsArrayBuffer(f);
  }
  file.hidden = false;
  var label = document.querySelector("label[for=file]");
  if (label) label.hidden = false;
  file.addEventListener("change", function () { if (file.files[0]) load(file.files[0]); });
  area.addEventListener("dragover", function (e) { e.preventDefault(); });
  area.addEventListener("drop", function (e) {
    e.preventDefault();
    if (e.dataTransfer.files[0]) load(e.dataTransfer.files[0]);
  });
})();
