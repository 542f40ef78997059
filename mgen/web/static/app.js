// The page: settings -> POST api/generate -> samples (notation, piano roll, player, downloads)
// -> GET api/batches/<id>/eval; one sample is streamed instead (live.js: POST api/stream). Every URL is relative, so the page works under any prefix.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { models: [], decoders: [], limits: {}, playing: null };

async function api(path, options = {}) {
  const response = await fetch(path, options);
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  if (!response.ok) {
    const error = new Error((body && body.error) || `${response.status} ${response.statusText}`);
    error.retryAfter = Number(response.headers.get("Retry-After")) || 0;  // 503: try again then
    throw error;
  }
  return body;
}

function showError(message) {
  const box = $("error");
  box.textContent = message || "";
  box.hidden = !message;
}

function option(value, text) {
  const el = document.createElement("option");
  el.value = value;
  el.textContent = text;
  return el;
}

function modelLabel(m) {
  const loss = m.val_loss == null ? "" : `, val loss ${m.val_loss.toFixed(3)}`;
  return `${m.name} (${m.tokenizer}, ${m.model}${loss})`;
}

function describeModel() {
  const m = state.models.find((x) => x.name === $("model").value);
  $("ensemble").hidden = !chooseEnsemble(m);
  showControls(m);
  if (window.mgenPlayAlong) window.mgenPlayAlong.showAlong();
  if (!m) { $("model-info").textContent = "no models: train one with `mgen train`"; return; }
  const size = m.parameters == null ? "?" : m.parameters.toLocaleString();
  const loss = m.val_loss == null ? "not measured" : `${m.val_loss.toFixed(3)} nats/token`;
  const where = { pretrained: "shipped model", hub: "Hugging Face Hub model" }[m.source] || "run";
  $("model-info").textContent =
    `${where}: tokenizer ${m.tokenizer}, model ${m.model}, ${size} parameters, validation loss ${loss}` +
    (m.description ? `. ${m.description}` : "");
}

// Key, meter and tempo can be asked of a model trained with controls (docs/control.md): each
// field is shown where the model knows that attribute, its values offered.
const CONTROLS = ["key", "meter", "tempo"];
function showControls(m) {
  const known = (m && m.controls) || {};
  $("controls").hidden = !CONTROLS.some((name) => known[name]);
  for (const name of CONTROLS) {
    $(`control-${name}`).hidden = !known[name];
    if (name !== "tempo") {
      const list = $(`${name}s`);
      list.replaceChildren(...(known[name] || []).map((v) => option(v, v)));
    }
  }
  $("controls-info").textContent = known.tempo ? `tempo bands it knows: ${known.tempo.join(", ")}` : "";
}

// The ensemble can be chosen where the model's tokenizer names its instruments (midi-tracks).
function chooseEnsemble(m) {
  return Boolean(m && state.ensembles && state.ensembles.tokenizers.includes(m.tokenizer));
}

function describeDecoder() {
  const d = state.decoders.find((x) => x.name === $("decoder").value);
  const m = state.models.find((x) => x.name === $("model").value);
  const own = m && m.decoding ? `the model's own: ${m.decoding}` : "the model's own decoding";
  $("decoder-info").textContent = d ? d.description : own;
  for (const name of ["temperature", "top_k", "top_p"]) {
    $(name).disabled = !(d && d.options.includes(name));
  }
}

async function init() {
  try {
    const [models, options] = await Promise.all([api("api/models"), api("api/options")]);
    state.models = models.models;
    state.decoders = options.decoders;
    state.limits = options.limits;
    state.ensembles = options.ensembles;
  } catch (e) {
    showError(`cannot reach the server: ${e.message}`);
    return;
  }
  for (const m of state.models) $("model").appendChild(option(m.name, modelLabel(m)));
  $("decoder").appendChild(option("", "the model's own"));
  for (const d of state.decoders) $("decoder").appendChild(option(d.name, d.name));
  $("decoder").value = "";
  for (const e of state.ensembles.presets) $("ensembles").appendChild(option(e, e));
  $("length").max = state.limits.max_length;
  $("num_samples").max = state.limits.max_samples;
  $("primer").maxLength = state.limits.max_primer_chars;
  $("generate").disabled = state.models.length === 0;
  describeModel();
  describeDecoder();
}

function settings() {
  const body = {
    model: $("model").value,
    length: Number($("length").value),
    num_samples: Number($("num_samples").value),
    seed: Number($("seed").value),
    primer: $("primer").value,
    grammar: $("grammar").checked,
  };
  if ($("decoder").value) body.decoder = $("decoder").value;
  if (!$("ensemble").hidden) body.instruments = $("instruments").value.trim();
  for (const name of CONTROLS) {
    if (!$("controls").hidden && !$(`control-${name}`).hidden) body[name] = $(name).value.trim();
  }
  for (const name of ["temperature", "top_k", "top_p"]) {
    if (!$(name).disabled && $(name).value !== "") body[name] = Number($(name).value);
  }
  return body;
}

function startProgress() {
  const started = performance.now();
  $("progress").hidden = false;
  const tick = async () => {
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    let queue = "";
    try {
      const s = (await api("api/status")).queue;
      queue = ` (server: ${s.running} generating, ${s.waiting} waiting)`;
    } catch (e) { queue = ""; }
    $("progress-text").textContent = `generating... ${secs} s${queue}`;
  };
  tick();
  const timer = setInterval(tick, 500);
  return () => { clearInterval(timer); $("progress").hidden = true; };
}

async function generate(event) {
  if (event) event.preventDefault();
  showError("");
  stopPlaying();
  $("generate").disabled = true;
  const done = startProgress();
  try {
    const body = settings();
    if (body.num_samples === 1) {
      await window.mgenStream.streamSample(body);  // the roll grows, the player starts at once
      return;
    }
    const batch = await api("api/generate", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    showBatch(batch);
  } catch (e) {
    showError(e.message);
  } finally {
    done();
    $("generate").disabled = false;
  }
}

// Which way the batch was sampled: under the format's grammar (and how often it refused the
// model's first choice), or the raw model.
function grammarText(g) {
  if (!g) return "";
  if (!g.on) return "; grammar off (the raw model)";
  const steps = g.steps.reduce((a, b) => a + b, 0);
  const refused = g.refused.reduce((a, b) => a + b, 0);
  return `; grammar on: the model's first choice refused at ${(100 * refused / Math.max(1, steps)).toFixed(1)}% of steps`;
}

function showBatch(batch) {
  $("empty").hidden = true;
  const s = batch.settings;
  $("batch-info").textContent =
    `batch ${batch.id.slice(0, 8)}: ${batch.samples.length} sample(s) from ${batch.model}, ` +
    `${s.decoder || "the model's own decoding"}, seed ${s.seed}, in ${batch.seconds.toFixed(1)} s` +
    grammarText(batch.grammar) +
    (batch.problems.length ? `; not written: ${batch.problems.join("; ")}` : "");
  const list = $("samples");
  list.replaceChildren(...batch.samples.map((sample) => sampleCard(batch, sample)));
  loadEval(batch.id);
}

function link(href, text) {
  const a = document.createElement("a");
  a.href = href;
  a.textContent = text;
  a.className = "button";
  a.setAttribute("download", "");
  return a;
}

function button(text, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "small";
  b.textContent = text;
  b.addEventListener("click", onClick);
  return b;
}

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text != null) el.textContent = text;
  return el;
}

function sampleCard(batch, sample) {
  const card = element("article", "sample");
  card.id = `sample-${sample.index}`;
  const title = element("h3", null, `Sample ${sample.index}`);
  title.appendChild(element("span", "info",
    `${sample.tokens} tokens, ${sample.notes.length} notes, ${sample.seconds.toFixed(1)} s`));
  card.appendChild(title);
  const notation = element("div", "notation");
  if (sample.svg) notation.innerHTML = sample.svg;  // verovio's engraving, made on the server
  card.appendChild(notation);
  if (sample.notation_note) card.appendChild(element("div", "info notation-note", sample.notation_note));
  const rollBox = element("div", "roll-box");
  const roll = window.mgenRoll.pianoRoll(sample.notes, sample.seconds, parts(sample));
  rollBox.appendChild(roll);
  card.appendChild(rollBox);
  const mix = { roll, mute: new Set(), solo: new Set() };
  if ((sample.tracks || []).length > 1) card.appendChild(legend(sample, mix));
  card.appendChild(controls(batch, sample, roll, mix));
  if (sample.text != null) {
    const details = element("details");
    details.appendChild(element("summary", null, `${sample.formats.native} text`));
    details.appendChild(element("pre", null, sample.text));
    card.appendChild(details);
  }
  return card;
}

// What the roll and the player take besides the notes: each note's track, the drum hits.
function parts(sample, levels) {
  return { noteTracks: sample.note_tracks || [], drums: sample.drums || [], levels };
}

// A track as the legend names it: its name and instrument ("Soprano (Choir Aahs)"); a track
// named after its instrument ("Violin 2") by its name alone.
function trackLabel(track, i) {
  const name = track.name || `track ${i + 1}`;
  const instrument = track.drum ? "drums" : (track.instrument || `program ${track.program}`);
  return name.toLowerCase().startsWith(instrument.toLowerCase()) ? name : `${name} (${instrument})`;
}

// Each track's level under the sample's mute and solo buttons: soloed tracks alone when any
// is soloed, else every track not muted.
function levels(sample, mix) {
  return sample.tracks.map((_, i) => (mix.solo.size ? mix.solo.has(i) : !mix.mute.has(i)) ? 1 : 0);
}

function applyMix(sample, mix) {
  const now = levels(sample, mix);
  window.mgenRoll.showAudible(mix.roll, now.map((x) => x === 1));
  if (state.playing && state.playing.roll === mix.roll) window.mgenSynth.setLevels(now);
}

// The legend of a sample of several tracks: each track's colour, name and instrument, and its
// mute (M) and solo (S) buttons.
function legend(sample, mix) {
  const box = element("div", "legend");
  sample.tracks.forEach((track, i) => {
    const item = element("span", "legend-track");
    item.dataset.track = i;
    item.appendChild(element("span", `swatch ${window.mgenRoll.trackClass(i)}`));
    item.appendChild(element("span", "track-name", trackLabel(track, i)));
    for (const [text, set, title] of [["M", mix.mute, "mute"], ["S", mix.solo, "solo"]]) {
      const toggle = button(text, () => {
        if (set.has(i)) set.delete(i); else set.add(i);
        toggle.classList.toggle("on", set.has(i));
        toggle.setAttribute("aria-pressed", String(set.has(i)));
        applyMix(sample, mix);
      });
      toggle.classList.add(title);
      toggle.title = `${title} ${track.name || `track ${i + 1}`}`;
      toggle.setAttribute("aria-pressed", "false");
      item.appendChild(toggle);
    }
    box.appendChild(item);
  });
  return box;
}

function controls(batch, sample, roll, mix) {
  const bar = element("div", "controls");
  const play = button("Play", () => togglePlay(sample, roll, play, mix));
  play.classList.add("play");
  play.disabled = sample.notes.length === 0 && (sample.drums || []).length === 0;
  bar.appendChild(play);
  const base = `api/batches/${batch.id}/samples/${sample.index}`;
  const midiNative = sample.formats.native === ".mid";
  if (!midiNative) bar.appendChild(link(`${base}/native`, `Download ${sample.formats.native}`));
  if (sample.formats.midi) bar.appendChild(link(`${base}/midi`, "Download .mid"));
  bar.appendChild(link(`${base}/musicxml`, "Download MusicXML"));
  const more = button("Continue this", () => continueFrom(sample));
  more.classList.add("continue");
  if (sample.primer == null || sample.primer.length > state.limits.max_primer_chars) {
    more.disabled = true;
    more.title = "this sample cannot be a primer (too long, or not expressible as primer text)";
  }
  bar.appendChild(more);
  return bar;
}

function stopPlaying() {
  if (!state.playing) return;
  window.mgenSynth.stop();
  cancelAnimationFrame(state.playing.frame);
  if (state.playing.roll) window.mgenRoll.movePlayhead(state.playing.roll, null);
  state.playing.button.textContent = "Play";
  state.playing = null;
}

function togglePlay(sample, roll, playButton, mix) {
  const same = state.playing && state.playing.roll === roll;
  stopPlaying();
  if (same) return;
  const playing = { roll, button: playButton, frame: 0 };
  state.playing = playing;
  playButton.textContent = "Stop";
  const mixed = (sample.tracks || []).length ? parts(sample, levels(sample, mix)) : {};
  window.mgenSynth.play(sample.notes, () => { if (state.playing === playing) stopPlaying(); }, mixed);
  const follow = () => {
    if (state.playing !== playing) return;
    window.mgenRoll.movePlayhead(roll, window.mgenSynth.position());
    playing.frame = requestAnimationFrame(follow);
  };
  follow();
}

function continueFrom(sample) {
  $("primer").value = sample.primer;
  $("primer-info").textContent = `primer: sample ${sample.index} (${sample.tokens} tokens), continued`;
  window.scrollTo({ top: 0, behavior: "smooth" });
  generate();
}

async function uploadPrimer() {
  const file = $("primer-file").files[0];
  if (!file) return;
  showError("");
  const form = new FormData();
  form.append("model", $("model").value);
  form.append("file", file);
  try {
    const got = await api("api/primer", { method: "POST", body: form });
    $("primer").value = got.primer;
    $("primer-info").textContent = `primer: ${file.name}, ${got.tokens} tokens` + (got.note ? ` (${got.note})` : "");
  } catch (e) {
    showError(e.message);
  } finally {
    $("primer-file").value = "";
  }
}

// The figures shown at once; the others are under "all figures".
const KEY_FIGURES = ["valid", "stuck", "looping", "longest copy", "copied", "classifier",
  "voice crossings", "parallel"];

function figureTable(rows) {
  const t = element("table", "judge");
  const head = t.createTHead().insertRow();
  for (const h of ["figure", "samples", "corpus"]) head.appendChild(element("th", null, h));
  const body = t.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    for (const cell of row) tr.insertCell().textContent = cell;
  }
  return t;
}

function judgeTable(format, table) {
  const box = element("div");
  box.appendChild(element("h4", null, `${format} files: ${Math.round(table.validity * 100)}% valid`));
  box.appendChild(figureTable(table.rows.filter((r) => KEY_FIGURES.some((k) => r[0].startsWith(k)))));
  const all = element("details");
  all.appendChild(element("summary", null, "all figures"));
  all.appendChild(figureTable(table.rows));
  box.appendChild(all);
  return box;
}

// The judge of a batch. The first judgement of a model waits for its judge data, which the
// server builds in the background: it answers 503 with Retry-After meanwhile, and the page asks
// again then (for up to 10 minutes), saying so, unless a newer batch has replaced this one.
async function loadEval(batchId, started = null) {
  $("eval").hidden = false;
  const body = $("eval-body");
  body.dataset.batch = batchId;
  if (started === null) {
    started = Date.now();
    body.textContent = "judging the batch against the model's training data...";
  }
  const waited = (Date.now() - started) / 1000;
  try {
    const report = await api(`api/batches/${batchId}/eval`);
    if (body.dataset.batch !== batchId) return;
    const parts = [];
    if (report.reference) {
      parts.push(element("p", "info",
        `corpus column: ${report.reference.pieces} pieces of ${report.reference.source}` +
        (report.copy_index ? `; copies sought in ${report.copy_index.pieces} training pieces` : "")));
    }
    for (const [format, table] of Object.entries(report.formats)) parts.push(judgeTable(format, table));
    body.replaceChildren(...parts);
  } catch (e) {
    if (body.dataset.batch !== batchId) return;
    if (e.retryAfter && waited < 600) {
      body.textContent = `${e.message} (asking again in ${e.retryAfter} s)`;
      setTimeout(() => loadEval(batchId, started), e.retryAfter * 1000);
      return;
    }
    body.textContent = `not judged: ${e.message}`;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("settings").addEventListener("submit", generate);
  $("model").addEventListener("change", () => { describeModel(); describeDecoder(); });
  $("decoder").addEventListener("change", describeDecoder);
  $("primer-file").addEventListener("change", uploadPrimer);
  $("clear-primer").addEventListener("click", () => { $("primer").value = ""; $("primer-info").textContent = ""; });
  init();
});
