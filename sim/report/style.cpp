// SPDX-License-Identifier: MIT
#include "sim/report/style.hpp"

namespace dartlab::sim::report {

namespace {

constexpr const char* kStyle = R"(
:root{--fg:#111827;--muted:#6b7280;--line:#e5e7eb;--bad:#b91c1c;--accent:#4e79a7}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:var(--fg);background:#f6f7f9}
header{background:#1f2937;color:#f9fafb;padding:22px 32px 18px}
header h1{margin:0 0 4px;font-size:22px;font-weight:650;letter-spacing:.1px}
header p{margin:0;color:#cbd5e1;font-size:13px}
header .limits{margin-top:10px;display:flex;gap:10px;flex-wrap:wrap}
header .limits span{background:#374151;border-radius:4px;padding:3px 9px;font-size:12.5px;color:#e5e7eb}
nav{padding:10px 32px;background:#fff;border-bottom:1px solid var(--line);font-size:13px}
nav a{color:var(--accent);text-decoration:none;margin-right:16px}
main{padding:8px 32px 40px;max-width:1500px}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:18px 22px;margin:18px 0}
h2{margin:0 0 2px;font-size:17px;font-weight:650;word-break:break-all}
.meta{margin:0 0 12px;color:var(--muted);font-size:12.5px}
.note{color:var(--muted);font-size:12.5px;margin:6px 0}
.ok{color:#15803d}
.legend{display:flex;flex-wrap:wrap;align-items:center;gap:4px 14px;font-size:12.5px;margin:4px 0 2px}
.lg{display:inline-flex;align-items:center;gap:5px;white-space:nowrap}
.lg-title{color:var(--muted);font-size:11.5px;text-transform:uppercase;letter-spacing:.4px;margin-left:6px}
.lg-title:first-child{margin-left:0}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:14px 22px;margin:8px 0 6px}
figure{margin:0}
svg.plot{width:100%;height:auto;display:block;overflow:visible}
.scroll{overflow-x:auto}
table{border-collapse:collapse;font-size:12px;margin-top:10px;width:100%}
th{text-align:left;font-weight:600;color:var(--muted);border-bottom:2px solid var(--line);padding:6px 6px;white-space:nowrap}
td{border-bottom:1px solid var(--line);padding:5px 6px;vertical-align:middle;white-space:nowrap}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
td.c{text-align:center;color:var(--fg)}
td.na{color:#c0c4cc}
td.bad{color:var(--bad);font-weight:600}
td.dart{max-width:190px;white-space:normal;color:#374151}
td.wrap{white-space:normal;min-width:90px}
td.policy{font-weight:600}
.dim{color:var(--muted)}
.reason{display:inline-block;white-space:nowrap;background:#fef2f2;color:var(--bad);border-radius:3px;padding:0 5px;font-size:11.5px}
.bar{display:block;height:3px;background:#eef0f3;border-radius:2px;margin-top:2px;min-width:56px}
.bar i{display:block;height:3px;background:#7c93b3;border-radius:2px}
.bar.over i{background:var(--bad)}
tr.hl td{background:#fff7db}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all}
.legend-item,.series,tr[data-k]{cursor:default}
body.hovering svg .series:not(.hl),body.hovering svg .legend-item[data-k]:not(.hl),body.hovering svg .label:not(.hl){opacity:.15}
svg .series.hl path,svg path.series.hl{stroke-width:3}
footer{color:var(--muted);font-size:12px;padding:0 32px 30px}
dl{margin:0;display:grid;grid-template-columns:max-content 1fr;gap:4px 14px;font-size:13px}
dt{font-weight:600}dd{margin:0;color:#374151}
@media print{body{background:#fff}section{border:none}nav{display:none}}
)";

// Hover highlighting, and a self-check the rendering test reads: how many plots drew something.
constexpr const char* kScript = R"(
(function(){
  function mark(k,on){
    document.body.classList.toggle('hovering',on);
    document.querySelectorAll('[data-k="'+k+'"]').forEach(function(e){e.classList.toggle('hl',on);});
  }
  document.querySelectorAll('[data-k]').forEach(function(e){
    var k=e.getAttribute('data-k');
    if(!/^[0-9]+$/.test(k))return;
    e.addEventListener('mouseenter',function(){mark(k,true);});
    e.addEventListener('mouseleave',function(){mark(k,false);});
  });
  var plots=document.querySelectorAll('svg.plot'),drawn=0;
  plots.forEach(function(p){
    var b=p.getBBox(),marks=0;
    p.querySelectorAll('.series').forEach(function(s){var r=s.getBBox();if(r.width>0||r.height>0)marks++;});
    if(b.width>0&&b.height>0&&marks>0)drawn++;
  });
  document.body.setAttribute('data-plots',String(plots.length));
  document.body.setAttribute('data-plots-drawn',String(drawn));
  document.body.setAttribute('data-ok','1');
})();
)";

constexpr const char* kErrorHook =
    "window.addEventListener('error',function(e){var d=document.documentElement;"
    "d.setAttribute('data-errors',(d.getAttribute('data-errors')||'')+(e.message||'error')+';');});";

}  // namespace

const char* page_style() { return kStyle; }
const char* page_script() { return kScript; }
const char* page_error_hook() { return kErrorHook; }

}  // namespace dartlab::sim::report
