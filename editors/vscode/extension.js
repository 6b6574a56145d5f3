// A thin client: it starts `python -m typedml lsp` with the interpreter selected in the Python
// extension (or `typedml.interpreter`), and restarts it when that selection changes. All the
// work (checks, hover, inlay hints, quick fixes) is the server's.
"use strict";

const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client = null;

async function interpreter() {
  const configured = vscode.workspace.getConfiguration("typedml").get("interpreter");
  if (configured) {
    return configured;
  }
  const python = vscode.extensions.getExtension("ms-python.python");
  if (python) {
    const api = await python.activate();
    const environments = api.environments;
    if (environments) {
      const resolved = await environments.resolveEnvironment(environments.getActiveEnvironmentPath());
      if (resolved && resolved.executable && resolved.executable.uri) {
        return resolved.executable.uri.fsPath;
      }
    }
  }
  return process.platform === "win32" ? "python" : "python3";
}

async function start(context) {
  const settings = vscode.workspace.getConfiguration("typedml");
  const command = await interpreter();
  const args = [
    "-m", "typedml", "lsp",
    "--timeout", String(settings.get("timeout")),
    "--debounce", String(settings.get("debounce")),
  ];
  client = new LanguageClient(
    "typedml",
    "typedml",
    { command, args, options: { cwd: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath } },
    { documentSelector: [{ scheme: "file", language: "python" }] },
  );
  await client.start();
}

async function restart(context) {
  if (client) {
    await client.stop();
    client = null;
  }
  await start(context);
}

async function activate(context) {
  context.subscriptions.push(vscode.commands.registerCommand("typedml.restart", () => restart(context)));
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration("typedml")) {
        restart(context);
      }
    }),
  );
  const python = vscode.extensions.getExtension("ms-python.python");
  if (python) {
    const api = await python.activate();
    if (api.environments && api.environments.onDidChangeActiveEnvironmentPath) {
      context.subscriptions.push(api.environments.onDidChangeActiveEnvironmentPath(() => restart(context)));
    }
  }
  await start(context);
}

async function deactivate() {
  if (client) {
    await client.stop();
  }
}

module.exports = { activate, deactivate };
