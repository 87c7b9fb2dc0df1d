import { describe, expect, it } from 'vitest';
import { letterColor, positionTrackSvg, sequenceLogoSvg } from '../../src/explanation/plots/sequence-logo.js';

/** Letters drawn: letter, translate y (baseline) and vertical scale. */
function glyphs(svg: string): { letter: string; x: number; y: number; sy: number; fill: string }[] {
  return [
    ...svg.matchAll(
      /<text transform="translate\(([-\d.]+),([-\d.]+)\) scale\(([-\d.]+),([-\d.]+)\)" fill="([^"]+)">(.)<\/text>/g,
    ),
  ].map((m) => ({
    x: Number(m[1]),
    y: Number(m[2]),
    sy: Number(m[4]),
    fill: m[5],
    letter: m[6],
  }));
}

describe('sequenceLogoSvg', () => {
  it('draws positive letters above the zero line and negative ones below, heights proportional to the values', () => {
    // position 0: A = +1, position 1: G = −0.5, position 2: C = +0.25 and T = +0.5 (stacked)
    const m = [1, 0, 0, 0, 0, 0, -0.5, 0, 0, 0.25, 0, 0.5];
    const svg = sequenceLogoSvg({ letters: 'ACGT', matrix: m, length: 3 }, { height: 200 });
    expect(svg.startsWith('<svg')).toBe(true);
    const g = glyphs(svg);
    expect(g.map((x) => x.letter)).toEqual(['A', 'G', 'C', 'T']);
    const zero = 10 + 100; // margin.top + height / 2
    const [a, gl, c, t] = g;
    expect(a.y).toBeCloseTo(zero, 6); // baseline on the axis, glyph above it
    expect(a.sy * 72).toBeCloseTo(100, 1); // the largest stack fills the upper half
    expect(gl.y).toBeGreaterThan(zero); // below the axis
    expect(gl.sy * 72).toBeCloseTo(50, 1);
    // the smaller letter sits on the axis, the larger on top of it
    expect(c.y).toBeCloseTo(zero, 6);
    expect(t.y).toBeCloseTo(zero - 25, 1);
    expect(t.sy / c.sy).toBeCloseTo(2, 2);
    expect(a.fill).toBe(letterColor('A'));
    expect(c.x).toBeGreaterThan(a.x);
  });

  it('escapes the title and draws highlights; a bar track for long sequences', () => {
    const svg = sequenceLogoSvg({ letters: 'AC', matrix: [1, 0], length: 1 }, { title: '<x>', highlight: [[0, 1]] });
    expect(svg).toContain('&#60;x&#62;');
    expect(svg).toContain('<rect');
    const track = positionTrackSvg(Float64Array.from({ length: 500 }, (_, i) => (i === 10 ? 1 : i === 20 ? -0.5 : 0)));
    expect(track.match(/<rect/g)).toHaveLength(2);
    expect(track).toContain('#337ab7');
  });
});
