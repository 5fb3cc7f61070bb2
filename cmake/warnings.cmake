# SPDX-License-Identifier: MIT
# Warnings are errors in dartlab's own code; third-party headers come in as SYSTEM includes.
function(dartlab_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align
    -Wimplicit-fallthrough -Werror)
endfunction()
