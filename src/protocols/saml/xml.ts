// Safe XML parsing and the few DOM helpers the SAML code needs. Everything that reaches the protocol layer from
// outside is parsed here: no DTDs (so no entity expansion and no external entities), no processing instructions, no
// tolerated parser warnings, and a size cap checked before the parser sees a byte.
import { DOMParser, XMLSerializer, type Document, type Element, type Node } from '@xmldom/xmldom';
import { SamlError } from './errors.js';

export const NS = {
  samlp: 'urn:oasis:names:tc:SAML:2.0:protocol',
  saml: 'urn:oasis:names:tc:SAML:2.0:assertion',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  md: 'urn:oasis:names:tc:SAML:2.0:metadata',
  soap11: 'http://schemas.xmlsoap.org/soap/envelope/',
  xenc: 'http://www.w3.org/2001/04/xmlenc#',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
  xs: 'http://www.w3.org/2001/XMLSchema',
} as const;

export const DEFAULT_MAX_XML_BYTES = 256 * 1024;

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const CDATA_SECTION_NODE = 4;
const PROCESSING_INSTRUCTION_NODE = 7;

// A DTD is the door to entity expansion (billion laughs) and external entities (XXE); SAML never needs one.
const DTD_MARKUP = /<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)/i;

export function parseXml(text: string, opts: { maxBytes?: number } = {}): Document {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_XML_BYTES;
  if (typeof text !== 'string' || text.length === 0) throw new SamlError(400, 'XML_MALFORMED', 'The XML document is empty.');
  if (Buffer.byteLength(text, 'utf8') > maxBytes) {
    throw new SamlError(413, 'XML_TOO_LARGE', `The XML document is larger than ${maxBytes} bytes.`);
  }
  if (DTD_MARKUP.test(text)) throw new SamlError(400, 'XML_DTD', 'XML documents with a DTD are refused.');
  let doc: Document;
  try {
    // Any report, even a warning, means the input is not the plain well-formed XML a SAML peer sends.
    const parser = new DOMParser({
      onError: (level, message) => {
        throw new Error(`${level}: ${message}`);
      },
    });
    doc = parser.parseFromString(text, 'text/xml');
  } catch (err) {
    throw new SamlError(400, 'XML_MALFORMED', 'The XML document is not well-formed.', undefined, { cause: err });
  }
  if (doc.doctype) throw new SamlError(400, 'XML_DTD', 'XML documents with a DTD are refused.');
  if (!doc.documentElement) throw new SamlError(400, 'XML_MALFORMED', 'The XML document has no root element.');
  refuseProcessingInstructions(doc);
  return doc;
}

/** Only the XML declaration, as the document's first node, is allowed (xmldom reports it as a PI named `xml`). */
function refuseProcessingInstructions(doc: Document): void {
  const stack: Node[] = [];
  for (let child = doc.firstChild; child; child = child.nextSibling) {
    if (child.nodeType === PROCESSING_INSTRUCTION_NODE && !(child === doc.firstChild && child.nodeName === 'xml')) {
      throw new SamlError(400, 'XML_PI', 'XML processing instructions are refused.');
    }
  }
  stack.push(doc.documentElement!);
  while (stack.length > 0) {
    const node = stack.pop()!;
    for (let child = node.firstChild; child; child = child.nextSibling) {
      if (child.nodeType === PROCESSING_INSTRUCTION_NODE) {
        throw new SamlError(400, 'XML_PI', 'XML processing instructions are refused.');
      }
      if (child.nodeType === ELEMENT_NODE) stack.push(child);
    }
  }
}

/** Element children, optionally only those with the given namespace and local name. */
export function childElements(el: Element | Document, ns?: string, localName?: string): Element[] {
  const out: Element[] = [];
  for (let child = el.firstChild; child; child = child.nextSibling) {
    if (child.nodeType !== ELEMENT_NODE) continue;
    const element = child as Element;
    if (ns !== undefined && element.namespaceURI !== ns) continue;
    if (localName !== undefined && element.localName !== localName) continue;
    out.push(element);
  }
  return out;
}

export function firstChild(el: Element, ns: string, localName: string): Element | undefined {
  return childElements(el, ns, localName)[0];
}

/**
 * All the text under `el`, comments skipped but the text on both sides of them kept. Reading only the first text
 * node is the comment-injection bug: `admin<!---->@evil` would read as `admin` and pass for another user.
 */
export function textOf(el: Element): string {
  let text = '';
  const walk = (node: Node): void => {
    for (let child = node.firstChild; child; child = child.nextSibling) {
      if (child.nodeType === TEXT_NODE || child.nodeType === CDATA_SECTION_NODE) text += (child as unknown as { data: string }).data;
      else if (child.nodeType === ELEMENT_NODE) walk(child);
    }
  };
  walk(el);
  return text;
}

/** An attribute's value, or undefined when absent (xmldom's getAttribute answers null). */
export function attr(el: Element, name: string): string | undefined {
  return el.hasAttribute(name) ? el.getAttribute(name) ?? undefined : undefined;
}

export function serialize(node: Node): string {
  return new XMLSerializer().serializeToString(node);
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Also escapes whitespace that attribute-value normalisation would otherwise turn into spaces. */
export function escapeAttr(text: string): string {
  return escapeXml(text)
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}
