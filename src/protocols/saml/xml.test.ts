import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NS, childElements, escapeAttr, escapeXml, firstChild, parseXml, textOf } from './xml.js';
import { assertSamlError } from './test-assert.js';

describe('parseXml', () => {
  it('parses plain namespaced XML with an XML declaration', () => {
    const doc = parseXml(`<?xml version="1.0" encoding="UTF-8"?><samlp:X xmlns:samlp="${NS.samlp}"><a/><samlp:b>1</samlp:b></samlp:X>`);
    const root = doc.documentElement!;
    assert.equal(root.localName, 'X');
    assert.equal(childElements(root).length, 2);
    assert.equal(textOf(firstChild(root, NS.samlp, 'b')!), '1');
  });

  it('refuses external entities (XXE)', () => {
    const xxe = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>';
    assertSamlError(() => parseXml(xxe), 400, 'XML_DTD');
  });

  it('refuses billion laughs before expanding anything', () => {
    const lol =
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' +
      Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`).join('') +
      ']><lolz>&lol9;</lolz>';
    assertSamlError(() => parseXml(lol), 400, 'XML_DTD');
  });

  it('refuses any DOCTYPE, whatever its case or spacing', () => {
    assertSamlError(() => parseXml('<!doctype x><x/>'), 400, 'XML_DTD');
    assertSamlError(() => parseXml('<!DOCTYPE x SYSTEM "http://evil/x.dtd"><x/>'), 400, 'XML_DTD');
  });

  it('refuses processing instructions other than the XML declaration', () => {
    assertSamlError(() => parseXml('<x><?evil stuff?></x>'), 400, 'XML_PI');
    assertSamlError(() => parseXml('<?xml-stylesheet href="a"?><x/>'), 400, 'XML_PI');
  });

  it('refuses malformed XML, unbound prefixes, trailing content and empty input', () => {
    for (const bad of ['<a><b></a>', '<a x:y="1"/>', '<a/>trailing', '', 'not xml', '<a>&undefined;</a>']) {
      assertSamlError(() => parseXml(bad), 400);
    }
  });

  it('refuses documents over the size cap with 413', () => {
    const big = `<x>${'a'.repeat(2000)}</x>`;
    assertSamlError(() => parseXml(big, { maxBytes: 1000 }), 413, 'XML_TOO_LARGE');
    assert.ok(parseXml(big, { maxBytes: 4000 }));
  });
});

describe('textOf', () => {
  it('reads text on both sides of a comment (comment injection)', () => {
    const doc = parseXml('<n>admin<!---->@evil</n>');
    assert.equal(textOf(doc.documentElement!), 'admin@evil');
  });

  it('includes CDATA and nested text', () => {
    assert.equal(textOf(parseXml('<n>a<![CDATA[<b>]]><i>c</i></n>').documentElement!), 'a<b>c');
  });
});

describe('escaping', () => {
  it('escapes markup in text and quotes and whitespace in attributes', () => {
    assert.equal(escapeXml('<a & "b">'), '&lt;a &amp; "b"&gt;');
    assert.equal(escapeAttr(`"'<&\n`), '&quot;&apos;&lt;&amp;&#10;');
    const doc = parseXml(`<x a="${escapeAttr('v "1"\n2')}">${escapeXml('</x><y>')}</x>`);
    assert.equal(doc.documentElement!.getAttribute('a'), 'v "1"\n2');
    assert.equal(textOf(doc.documentElement!), '</x><y>');
  });
});
