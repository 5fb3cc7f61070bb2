# SPDX-License-Identifier: MIT
# One man page from a command's --help, with help2man (Debian's help2man package): run as
#   cmake -DHELP2MAN=... -DPROGRAM="/path/dartlab replay" -DTITLE=DARTLAB-REPLAY -DNAME="..." \
#         -DVERSION=0.1.0 -DOUT=dartlab-replay.1 -P man-page.cmake
# help2man titles a page after the program's first word; a subcommand's page is retitled after
# its own name (dartlab-replay(1), as git-commit(1) is).
execute_process(COMMAND "${HELP2MAN}" --no-info --section=1 --version-string=${VERSION} --name=${NAME}
                        --source=dartlab --manual "dartlab manual" --output=${OUT}.tmp ${PROGRAM}
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  file(REMOVE "${OUT}.tmp")
  message(FATAL_ERROR "help2man failed for '${PROGRAM}': ${err}")
endif()
file(READ "${OUT}.tmp" page)
string(REGEX REPLACE "\n\\.TH [^ ]+ " "\n.TH ${TITLE} " page "${page}")
file(WRITE "${OUT}" "${page}")
file(REMOVE "${OUT}.tmp")
