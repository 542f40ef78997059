// Streaming one sample: POST api/stream answers server-sent events (`start`, `notes` as they
// become final, then `done` with the batch as api/generate answers it, or `error`). The piano roll
// grows with each `notes` event and the player starts with the first one; on `done` the sample
// is shown whole (notation, downloads) and the player plays on. What happened is kept in
// window.mgenLive (the browser test and docs/web.md's timing read it).
"use strict";

// Each server-sent event of a fetch response: {event, data} with data parsed as JSON.
async function* serverEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = "message";
      let data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data += line.slice(5).trim();
      }
      yield { event, data: data ? JSON.parse(data) : null };
    }
  }
}

// The live card: a title, the growing roll, a Stop button.
function liveCard(live) {
  const card = element("article", "live-sample");
  card.id = "live-sample";
  live.title = element("h3", null, "Sample 1");
  live.status = element("span", "info", "streaming...");
  live.title.appendChild(live.status);
  card.appendChild(live.title);
  live.rollBox = element("div", "roll-box");
  card.appendChild(live.rollBox);
  const bar = element("div", "controls");
  live.button = button("Stop", () => stopPlaying());
  live.button.classList.add("play");
  bar.appendChild(live.button);
  card.appendChild(bar);
  return card;
}

// One `notes` event: the roll drawn again with every note so far, the new notes scheduled.
function addLiveNotes(live, data) {
  live.notes.push(...data.notes);
  live.noteTracks.push(...data.note_tracks);
  live.drums.push(...data.drums);
  const seconds = Math.max(0, ...live.notes.map((n) => n[2]), ...live.drums.map((d) => d[2]));
  const roll = window.mgenRoll.pianoRoll(live.notes, seconds,
    { noteTracks: live.noteTracks, drums: live.drums });
  live.rollBox.replaceChildren(roll);
  if (state.playing && state.playing.live === live) state.playing.roll = roll;
  const first = scheduleNotes(live, data);
  if (live.firstSoundMs === null && first !== null) {
    const ctx = window.mgenSynth.ctx;
    live.firstSoundMs = performance.now() - live.clicked + (first - ctx.currentTime) * 1000;
    live.firstNoteMs = performance.now() - live.clicked;
  }
  live.status.textContent = ` streaming: ${live.notes.length} notes, ${data.tokens} tokens`;
  live.log.push({ event: "notes", notes: live.notes.length, rolled: roll.querySelectorAll("rect.note").length,
                  playing: state.playing !== null, answered: live.answered,
                  ms: performance.now() - live.clicked });
}

// The new notes to the synthesizer. An answer (play-along) leaves out the phrase it answers
// (the primer's notes) and starts its clock at its own first note.
function scheduleNotes(live, data) {
  if (!live.answer) {
    return window.mgenSynth.add(data.notes, { noteTracks: data.note_tracks, drums: data.drums });
  }
  const keep = data.notes.map((_, i) => !(data.primer || [])[i]);
  const notes = data.notes.filter((_, i) => keep[i]);
  if (!notes.length) return null;
  if (live.answered === 0) window.mgenSynth.startAt(Math.min(...notes.map((n) => n[1])));
  live.answered += notes.length;
  return window.mgenSynth.add(notes, { noteTracks: data.note_tracks.filter((_, i) => keep[i]) });
}

// The player of the live card: the clock started in the click, the playhead following.
function startLivePlayer(live) {
  stopPlaying();
  window.mgenSynth.begin();
  const playing = { roll: null, button: live.button, frame: 0, live };
  state.playing = playing;
  const follow = () => {
    if (state.playing !== playing) return;
    if (playing.roll) window.mgenRoll.movePlayhead(playing.roll, window.mgenSynth.position());
    playing.frame = requestAnimationFrame(follow);
  };
  follow();
}

// `done`: the sample shown whole; the player, still playing, moves to its card.
function finishLive(live, batch) {
  live.log.push({ event: "done", notes: live.notes.length, ms: performance.now() - live.clicked });
  const playing = state.playing && state.playing.live === live ? state.playing : null;
  showBatch(batch);
  if (!playing) return;
  const card = document.getElementById("sample-1");
  playing.roll = card.querySelector("svg.roll");
  playing.button = card.querySelector("button.play");
  playing.button.textContent = "Stop";
  window.mgenSynth.finish(() => { if (state.playing === playing) stopPlaying(); });
}

// Generate with one sample: stream it. Called inside the click, so sound may start.
// `answer`: the stream answers a phrase played (play-along): only its new notes sound.
async function streamSample(body, answer = false) {
  const live = { clicked: performance.now(), log: [], notes: [], noteTracks: [], drums: [],
                 firstSoundMs: null, firstNoteMs: null, answer, answered: 0, phrase: null };
  window.mgenLive = live;
  const card = liveCard(live);
  startLivePlayer(live);
  const response = await fetch("api/stream", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try { message = (await response.json()).error || message; } catch (e) { /* not JSON */ }
    stopPlaying();
    throw new Error(message);
  }
  $("empty").hidden = true;
  $("samples").replaceChildren(card);
  for await (const { event, data } of serverEvents(response)) {
    if (event === "start") live.phrase = data.phrase;
    else if (event === "notes") addLiveNotes(live, data);
    else if (event === "done") return finishLive(live, data);
    else if (event === "error") { stopPlaying(); throw new Error(data.error); }
  }
  throw new Error("the stream ended early");
}

window.mgenStream = { serverEvents, streamSample };
