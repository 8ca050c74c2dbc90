/**
 * The widget's only CSS, inside its shadow root: nothing here reaches the host page, and the
 * host page's rules reach only the host element, which `:host` resets with `!important` (in a
 * shadow tree's favour for important declarations). `.root` then stops inheritance from it.
 */
export const STYLES = `
:host{all:initial!important;display:block!important;position:fixed!important;inset:auto!important;width:0!important;height:0!important;margin:0!important;padding:0!important;border:0!important;z-index:2147483000!important;visibility:visible!important;opacity:1!important;transform:none!important;filter:none!important;contain:none!important}
:host([data-contained]){position:absolute!important;inset:0!important;width:auto!important;height:auto!important;pointer-events:none!important;z-index:1!important}
.root{all:initial;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1f2937;-webkit-font-smoothing:antialiased}
.root *,.root *::before,.root *::after{box-sizing:border-box}
.launcher,.panel{position:fixed;bottom:20px;pointer-events:auto}
.contained .launcher,.contained .panel{position:absolute}
.right .launcher,.right .panel{right:20px}.left .launcher,.left .panel{left:20px}
.launcher{width:56px;height:56px;border-radius:50%;border:0;padding:0;margin:0;cursor:pointer;background:var(--primary);color:var(--on-primary);box-shadow:0 6px 20px rgba(0,0,0,.22);display:flex;align-items:center;justify-content:center;transition:transform .15s}
.launcher:hover{transform:scale(1.06)}
.launcher svg{width:26px;height:26px;fill:currentColor}
button:focus-visible{outline:3px solid #93c5fd;outline-offset:2px}
.input:focus{outline:none;border-color:var(--primary);box-shadow:0 0 0 3px rgba(147,197,253,.6)}
.panel{bottom:88px;width:370px;height:560px;max-height:calc(100% - 108px);display:flex;flex-direction:column;background:#fff;border-radius:14px;overflow:hidden;box-shadow:0 12px 40px rgba(0,0,0,.25);border:1px solid rgba(0,0,0,.08)}
.header{display:flex;align-items:center;gap:8px;padding:14px 12px 14px 16px;background:var(--primary);color:var(--on-primary)}
.title{flex:1;margin:0;font-family:inherit;font-size:16px;font-weight:600;line-height:1.3;color:inherit;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.close{width:32px;height:32px;border:0;border-radius:8px;background:transparent;color:inherit;cursor:pointer;font-family:inherit;font-size:24px;line-height:1;padding:0}
.close:hover{background:rgba(255,255,255,.18)}
.log{flex:1;overflow-y:auto;padding:14px;display:flex;flex-direction:column;gap:10px;background:#f8fafc}
.msg{max-width:85%;padding:9px 12px;border-radius:12px;white-space:pre-wrap;word-wrap:break-word;overflow-wrap:anywhere}
.bot{align-self:flex-start;background:#fff;border:1px solid #e5e7eb;border-bottom-left-radius:4px}
.me{align-self:flex-end;background:var(--primary);color:var(--on-primary);border-bottom-right-radius:4px}
.notice{align-self:center;text-align:center;color:#6b7280;font-size:13px;padding:6px 10px}
.error{align-self:stretch;background:#fef2f2;border:1px solid #fecaca;color:#991b1b;font-size:13px}
.cite{display:inline-block;min-width:16px;padding:0 4px;margin:0 1px;border-radius:6px;background:#eef2ff;color:#3730a3;font-size:11px;font-weight:600;line-height:16px;text-align:center;vertical-align:1px}
.sources{margin:8px 0 0;padding:8px 0 0;border-top:1px solid #e5e7eb;list-style:none;font-size:12px;color:#4b5563;white-space:normal}
.sources li{margin:2px 0;display:flex;gap:6px}
.typing{display:inline-block;width:8px;height:14px;margin-left:2px;vertical-align:-2px;background:currentColor;opacity:.5;animation:blink 1s steps(2) infinite}
@keyframes blink{50%{opacity:0}}
.composer{display:flex;gap:8px;align-items:flex-end;padding:10px;border-top:1px solid #e5e7eb;background:#fff}
.composer[hidden]{display:none}
.input{flex:1;resize:none;min-height:40px;max-height:120px;padding:9px 11px;border:1px solid #d1d5db;border-radius:10px;font:inherit;color:#111827;background:#fff;margin:0}
.input::placeholder{color:#9ca3af}
.send{height:40px;padding:0 14px;border:0;border-radius:10px;background:var(--primary);color:var(--on-primary);font-family:inherit;font-size:14px;font-weight:600;line-height:1;cursor:pointer}
.send:disabled{opacity:.5;cursor:default}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (max-width:480px){.page .panel{inset:0;width:100%;height:100%;max-height:none;border-radius:0;border:0}.page.open .launcher{display:none}}
`;
