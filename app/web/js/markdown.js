// The Markdown of a model card (app/model_card_markdown.py) as DOM nodes: headings, lists,
// tables, fenced code and paragraphs, with `code` and **bold** inline. Text stays text.
import { el } from "./dom.js";

function inline(text) {
  const nodes = [];
  const pattern = /(`[^`]+`|\*\*[^*]+\*\*)/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    if (match.index > last) nodes.push(text.slice(last, match.index));
    const token = match[0];
    nodes.push(
      token.startsWith("`")
        ? el("code", { text: token.slice(1, -1) })
        : el("strong", { text: token.slice(2, -2) }),
    );
    last = match.index + token.length;
  }
  if (last < text.length) nodes.push(text.slice(last));
  return nodes;
}

function cells(line) {
  return line.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((cell) => cell.trim());
}

function table(lines) {
  const [head, , ...body] = lines;
  return el("div", { className: "table-scroll" }, [
    el("table", {}, [
      el("thead", {}, [el("tr", {}, cells(head).map((cell) => el("th", { scope: "col" }, inline(cell))))]),
      el("tbody", {}, body.map((row) => el("tr", {}, cells(row).map((cell) => el("td", {}, inline(cell)))))),
    ]),
  ]);
}

export function renderMarkdown(source) {
  const lines = source.replace(/\r\n/g, "\n").split("\n");
  const out = document.createDocumentFragment();
  let index = 0;
  while (index < lines.length) {
    const line = lines[index];
    const fence = line.match(/^(```|~~~)/);
    if (fence) {
      const end = lines.findIndex((l, i) => i > index && l.startsWith(fence[1]));
      const stop = end === -1 ? lines.length : end;
      out.append(el("pre", {}, [el("code", { text: lines.slice(index + 1, stop).join("\n") })]));
      index = stop + 1;
    } else if (/^#{1,6} /.test(line)) {
      const level = Math.min(line.indexOf(" ") + 2, 6); // the card's # is the entry's third level
      out.append(el(`h${level}`, {}, inline(line.slice(line.indexOf(" ") + 1))));
      index += 1;
    } else if (line.startsWith("|")) {
      const block = [];
      while (index < lines.length && lines[index].startsWith("|")) block.push(lines[index++]);
      out.append(table(block));
    } else if (/^[-*] /.test(line)) {
      const list = el("ul");
      while (index < lines.length && /^[-*] /.test(lines[index])) {
        list.append(el("li", {}, inline(lines[index++].slice(2))));
      }
      out.append(list);
    } else if (line.trim() === "") {
      index += 1;
    } else {
      const block = [];
      while (index < lines.length && lines[index].trim() !== "" && !/^(#|\||[-*] |```|~~~)/.test(lines[index])) {
        block.push(lines[index++]);
      }
      out.append(el("p", {}, inline(block.join(" "))));
    }
  }
  return out;
}
