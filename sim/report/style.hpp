// SPDX-License-Identifier: MIT
// The report page's CSS and its few lines of script, kept apart from the HTML that uses them.
#pragma once

namespace dartlab::sim::report {

const char* page_style();
// Hover highlighting, and a self-check the rendering test reads: how many plots drew something.
const char* page_script();
// Records script errors on the page (data-errors), for the rendering test.
const char* page_error_hook();

}  // namespace dartlab::sim::report
