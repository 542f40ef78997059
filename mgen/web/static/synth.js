// A small Web Audio synthesizer: plays [[pitch, start s, end s, velocity], ...] in the browser.
"use strict";

class MgenSynth {
  constructor() {
    this.ctx = null;
    this.out = null;
    this.timer = null;
    this.started = 0;
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

  // Schedules every note at once; onEnd runs when the last one has sounded.
  play(notes, onEnd) {
    this.stop();
    const ctx = this.context();
    if (ctx.state === "suspended") ctx.resume();
    const out = ctx.createGain();
    out.gain.value = 0.18;
    out.connect(ctx.destination);
    this.out = out;
    const t0 = ctx.currentTime + 0.08;
    this.started = t0;
    let last = 0;
    for (const [pitch, start, end, velocity] of notes) {
      const dur = Math.max(0.05, end - start);
      this.voice(ctx, out, MgenSynth.frequency(pitch), t0 + start, dur, (velocity || 90) / 127);
      last = Math.max(last, start + dur);
    }
    this.timer = setTimeout(() => { this.stop(); if (onEnd) onEnd(); }, (last + 0.4) * 1000);
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
  }
}

window.mgenSynth = new MgenSynth();
