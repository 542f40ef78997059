// Regenerating a span of a sample, for a model trained with --infill ("infills" in
// api/models): on each of its sample cards a span box ("5-8": bars, or beats for a MIDI model)
// and a button. The span goes to POST api/infill with the page's decoding settings; the new
// batch, every sample of it keeping all outside the span, is shown as Generate shows one.
"use strict";

// The span box and its button for a sample of `batch`; null when the batch's model does not infill.
function infillControl(batch, sample) {
  const m = state.models.find((x) => x.name === batch.model);
  if (!m || !m.infills) return null;
  const unit = m.infill_unit || "bars";
  const box = element("span", "infill");
  const span = document.createElement("input");
  span.type = "text";
  span.className = "infill-span";
  span.placeholder = "e.g. 5-8";
  span.maxLength = 20;
  span.setAttribute("aria-label", `${unit} to regenerate, e.g. 5-8`);
  const go = button(`Regenerate ${unit}`, () => regenerate(batch, sample, span.value.trim(), unit, go));
  go.classList.add("infill-go");
  go.title = `the model writes these ${unit} again; everything before and after them is kept`;
  span.addEventListener("keydown", (e) => {
    if (e.key === "Enter") { e.preventDefault(); go.click(); }
  });
  box.append(span, go);
  return box;
}

const INFILL_SETTINGS = ["decoder", "temperature", "top_k", "top_p", "length", "num_samples",
  "seed", "grammar"];

async function regenerate(batch, sample, bars, unit, go) {
  showError("");
  if (!bars) { showError(`${unit} to regenerate: type a span such as 5-8`); return; }
  stopPlaying();
  const form = settings();
  const body = { model: batch.model, batch: batch.id, index: sample.index, bars };
  for (const name of INFILL_SETTINGS) if (name in form) body[name] = form[name];
  go.disabled = true;
  $("generate").disabled = true;
  const done = startProgress();
  try {
    const made = await api("api/infill", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    showBatch(made);
  } catch (e) {
    showError(e.message);
  } finally {
    done();
    go.disabled = false;
    $("generate").disabled = false;
  }
}

// What the batch info says of an infilled batch: the span, where from, how long each new span is.
function infillText(info) {
  if (!info) return "";
  return `; ${info.unit} ${info.span} of sample ${info.index} (batch ${info.batch.slice(0, 8)}) ` +
    `regenerated, the new spans ${info.units.join(", ")} ${info.unit} long`;
}
