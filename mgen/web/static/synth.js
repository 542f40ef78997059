// A small Web Audio synthesizer: plays [[pitch, start s, end s, velocity], ...] in the browser.
// Each track has a gain of its own, so a listener can mute or solo tracks while it plays; drum
// hits are noise bursts, filtered by the drum (low for kicks, high for cymbals).
"use strict";

class MgenSynth {
  constructor() {
    this.ctx = null;
    this.out = null;
    this.timer = null;
    this.started = 0;
    this.tracks = [];  // one GainNode per track of what plays
    this.noise = null;
  }

  // The AudioContext is made on the first press of Play (browsers allow sound after a gesture).
  context() {
    if (!this.ctx) {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      this.ctx = new Ctx();
    }
    return this.ctx;
  }

  static frequency(pitch) {
    return 440 * Math.pow(2, (pitch - 69) / 12);
  }

  // The gain node of track `i`, made on first use (its level from `levels`, default 1).
  track(i, levels) {
    if (!this.tracks[i]) {
      const gain = this.ctx.createGain();
      gain.gain.value = levels && levels[i] === 0 ? 0 : 1;
      gain.connect(this.out);
      this.tracks[i] = gain;
    }
    return this.tracks[i];
  }

  // Schedules every note at once; onEnd runs when the last one has sounded. parts (optional):
  // {noteTracks: each note's track, drums: [[note, start, end, velocity, track], ...],
  //  levels: each track's level, 0 (muted) or 1}.
  play(notes, onEnd, parts = {}) {
    this.begin(parts.levels);
    this.add(notes, parts);
    this.finish(onEnd);
  }

  // A performance that notes join as they come (a stream): `begin` starts the clock now, `add`
  // schedules notes at their times from it (a note already due sounds at once), `finish`
  // ends it after the last note. `begin` inside a click lets the browser make sound.
  begin(levels) {
    this.stop();
    const ctx = this.context();
    if (ctx.state === "suspended") ctx.resume();
    const out = ctx.createGain();
    out.gain.value = 0.18;
    out.connect(ctx.destination);
    this.out = out;
    this.tracks = [];
    this.levels = levels;
    this.started = ctx.currentTime + 0.08;
    this.last = 0;
    return this.started;
  }

  // Schedules `notes` ([[pitch, start s, end s, velocity], ...]) and parts' drums; the
  // AudioContext time the first of them sounds (null for none).
  add(notes, parts = {}) {
    const ctx = this.ctx;
    if (!ctx || !this.out) return null;
    const noteTracks = parts.noteTracks || [];
    const soon = ctx.currentTime + 0.01;
    let first = null;
    notes.forEach(([pitch, start, end, velocity], i) => {
      const dur = Math.max(0.05, end - start);
      const at = Math.max(this.started + start, soon);
      const dest = this.track(noteTracks[i] || 0, this.levels);
      this.voice(ctx, dest, MgenSynth.frequency(pitch), at, dur, (velocity || 90) / 127);
      this.last = Math.max(this.last, at - this.started + dur);
      first = first === null ? at : Math.min(first, at);
    });
    for (const [note, start, , velocity, track] of parts.drums || []) {
      const at = Math.max(this.started + start, soon);
      this.hit(ctx, this.track(track, this.levels), note, at, (velocity || 90) / 127);
      this.last = Math.max(this.last, at - this.started + 0.3);
    }
    return first;
  }

  finish(onEnd) {
    if (!this.ctx || !this.out) return;
    if (this.timer) clearTimeout(this.timer);
    const left = this.started + this.last + 0.4 - this.ctx.currentTime;
    this.timer = setTimeout(() => { this.stop(); if (onEnd) onEnd(); }, Math.max(0, left) * 1000);
  }

  // A key held down (the page's keys, a MIDI keyboard): sounds until `keyOff`.
  keyOn(pitch, velocity = 90) {
    const ctx = this.context();
    if (ctx.state === "suspended") ctx.resume();
    this.keyOff(pitch);
    if (!this.keysOut) {
      this.keysOut = ctx.createGain();
      this.keysOut.gain.value = 0.18;
      this.keysOut.connect(ctx.destination);
    }
    const osc = ctx.createOscillator();
    const env = ctx.createGain();
    osc.type = "triangle";
    osc.frequency.value = MgenSynth.frequency(pitch);
    env.gain.setValueAtTime(0.0001, ctx.currentTime);
    env.gain.exponentialRampToValueAtTime(velocity / 127, ctx.currentTime + 0.01);
    osc.connect(env);
    env.connect(this.keysOut);
    osc.start();
    this.held = this.held || new Map();
    this.held.set(pitch, { osc, env });
  }

  keyOff(pitch) {
    const key = this.held && this.held.get(pitch);
    if (!key) return;
    this.held.delete(pitch);
    const t = this.ctx.currentTime;
    key.env.gain.setTargetAtTime(0.0001, t, 0.03);
    key.osc.stop(t + 0.2);
  }

  // Move the clock so that `seconds` of the piece sound now (an answer starts at its first note).
  startAt(seconds) {
    if (this.ctx) this.started = this.ctx.currentTime + 0.08 - seconds;
  }

  // Each track's level now (0: muted, 1: sounding), while it plays.
  setLevels(levels) {
    if (!this.ctx) return;
    this.tracks.forEach((gain, i) => {
      if (gain) gain.gain.setTargetAtTime(levels[i] === 0 ? 0 : 1, this.ctx.currentTime, 0.01);
    });
  }

  // One note: a triangle oscillator through an attack/decay/release envelope.
  voice(ctx, out, freq, at, dur, level) {
    const osc = ctx.createOscillator();
    const env = ctx.createGain();
    osc.type = "triangle";
    osc.frequency.setValueAtTime(freq, at);
    env.gain.setValueAtTime(0.0001, at);
    env.gain.exponentialRampToValueAtTime(level, at + 0.015);
    env.gain.exponentialRampToValueAtTime(level * 0.5, at + Math.min(0.3, dur));
    env.gain.setValueAtTime(level * 0.5, at + dur);
    env.gain.exponentialRampToValueAtTime(0.0001, at + dur + 0.08);
    osc.connect(env);
    env.connect(out);
    osc.start(at);
    osc.stop(at + dur + 0.1);
  }

  // The band a GM drum sounds in: kicks low, toms lower-mid, snares mid, hi-hats and cymbals high.
  static drumBand(note) {
    if (note <= 36) return 90;
    if ([38, 39, 40].includes(note)) return 1200;
    if ([42, 44, 46, 49, 51, 52, 53, 55, 57, 59].includes(note)) return 7000;
    if (note >= 41 && note <= 50) return 250;
    return 2500;
  }

  // One drum hit: a burst of noise through a band-pass filter around the drum's band.
  hit(ctx, out, note, at, level) {
    if (!this.noise) {
      const buffer = ctx.createBuffer(1, Math.round(ctx.sampleRate * 0.3), ctx.sampleRate);
      const data = buffer.getChannelData(0);
      for (let i = 0; i < data.length; i++) data[i] = Math.random() * 2 - 1;
      this.noise = buffer;
    }
    const src = ctx.createBufferSource();
    src.buffer = this.noise;
    const filter = ctx.createBiquadFilter();
    filter.type = "bandpass";
    filter.frequency.value = MgenSynth.drumBand(note);
    const env = ctx.createGain();
    const length = note <= 36 ? 0.25 : 0.12;
    env.gain.setValueAtTime(level, at);
    env.gain.exponentialRampToValueAtTime(0.0001, at + length);
    src.connect(filter);
    filter.connect(env);
    env.connect(out);
    src.start(at);
    src.stop(at + length + 0.02);
  }

  // Seconds since playing began (negative before the first note), or null when silent.
  position() {
    return this.out && this.ctx ? this.ctx.currentTime - this.started : null;
  }

  stop() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.out) {
      this.out.disconnect();
      this.out = null;
    }
    this.tracks = [];
  }
}

window.mgenSynth = new MgenSynth();
