"""A Polyglot-benchmark tree built from scratch: one exercise per language, Exercism layout.

``<root>/<language>/exercises/practice/leap/`` with ``.docs/instructions.md``,
``.meta/config.json`` (files.solution / test / example), the stub, the tests,
the reference solution and the build files, as in Aider-AI/polyglot-benchmark.
Only ``test/catch.hpp`` differs: upstream vendors Catch2's 17,000-line single
header, here it includes Debian's (the same Catch2 v2). The JavaScript and
Java build files (package.json, babel.config.js, build.gradle) are there but,
as in the graded run, unused.
"""

from __future__ import annotations

import json
from pathlib import Path

DOCS = "# Instructions\n\nGiven a year, report if it is a leap year ({lang}).\n"

EXERCISES = {
    "python": {
        "files": {"solution": ["leap.py"], "test": ["leap_test.py"], "example": [".meta/example.py"]},
        "leap.py": "def leap_year(year):\n    pass\n",
        "leap_test.py": "import unittest\n\nfrom leap import (\n    leap_year,\n)\n\n\n"
                        "class LeapTest(unittest.TestCase):\n"
                        "    def test_year_not_divisible_by_4(self):\n        self.assertIs(leap_year(2015), False)\n\n"
                        "    def test_year_divisible_by_4(self):\n        self.assertIs(leap_year(1996), True)\n\n"
                        "    def test_year_divisible_by_100(self):\n        self.assertIs(leap_year(1900), False)\n\n"
                        "    def test_year_divisible_by_400(self):\n        self.assertIs(leap_year(2000), True)\n",
        ".meta/example.py": "def leap_year(year):\n    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)\n",
    },
    "go": {
        "files": {"solution": ["leap.go"], "test": ["leap_test.go", "cases_test.go"],
                  "example": [".meta/example.go"]},
        "go.mod": "module leap\n\ngo 1.18\n",
        "leap.go": "package leap\n\n// IsLeapYear should have a comment documenting it.\nfunc IsLeapYear(year int) bool {\n"
                   "\tpanic(\"Please implement the IsLeapYear function\")\n}\n",
        "cases_test.go": "package leap\n\nvar testCases = []struct {\n\tdescription string\n\tyear        int\n"
                         "\texpected    bool\n}{\n\t{\"not divisible by 4\", 2015, false},\n"
                         "\t{\"divisible by 4\", 1996, true},\n\t{\"divisible by 100\", 1900, false},\n"
                         "\t{\"divisible by 400\", 2000, true},\n}\n",
        "leap_test.go": "package leap\n\nimport \"testing\"\n\nfunc TestLeapYears(t *testing.T) {\n"
                        "\tfor _, tc := range testCases {\n\t\tt.Run(tc.description, func(t *testing.T) {\n"
                        "\t\t\tif actual := IsLeapYear(tc.year); actual != tc.expected {\n"
                        "\t\t\t\tt.Fatalf(\"IsLeapYear(%d) = %t, want %t\", tc.year, actual, tc.expected)\n"
                        "\t\t\t}\n\t\t})\n\t}\n}\n\nfunc BenchmarkLeapYears(b *testing.B) {\n"
                        "\tfor i := 0; i < b.N; i++ {\n\t\tfor _, tc := range testCases {\n"
                        "\t\t\tIsLeapYear(tc.year)\n\t\t}\n\t}\n}\n",
        ".meta/example.go": "package leap\n\n// IsLeapYear reports whether year is a leap year.\n"
                            "func IsLeapYear(year int) bool {\n"
                            "\treturn year%4 == 0 && (year%100 != 0 || year%400 == 0)\n}\n",
    },
    "cpp": {
        "files": {"solution": ["leap.cpp", "leap.h"], "test": ["leap_test.cpp"],
                  "example": [".meta/example.cpp", ".meta/example.h"]},
        "CMakeLists.txt": (
            "cmake_minimum_required(VERSION 3.5.1)\n"
            "get_filename_component(exercise ${CMAKE_CURRENT_SOURCE_DIR} NAME)\n"
            "string(REPLACE \"-\" \"_\" file ${exercise})\n"
            "if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${file}.cpp)\n"
            "  set(exercise_cpp ${file}.cpp)\nelse()\n  set(exercise_cpp \"\")\nendif()\n"
            "project(${exercise} CXX)\n"
            "add_executable(${exercise} ${file}_test.cpp ${exercise_cpp} ${file}.h test/tests-main.cpp)\n"
            "set_target_properties(${exercise} PROPERTIES CXX_STANDARD 17 CXX_STANDARD_REQUIRED OFF"
            " CXX_EXTENSIONS OFF)\n"
            "set(CMAKE_BUILD_TYPE Debug)\n"
            "if(\"${CMAKE_CXX_COMPILER_ID}\" MATCHES \"(GNU|Clang)\")\n"
            "  set_target_properties(${exercise} PROPERTIES COMPILE_FLAGS \"-Wall -Wextra -Wpedantic\")\n"
            "endif()\n"
            "if(EXERCISM_RUN_ALL_TESTS)\n"
            "  target_compile_definitions(${exercise} PRIVATE EXERCISM_RUN_ALL_TESTS)\nendif()\n"
            "add_custom_target(test_${exercise} ALL DEPENDS ${exercise} COMMAND ${exercise})\n"),
        "test/catch.hpp": "// upstream vendors Catch2 v2's single header; Debian's catch2 package has it\n"
                          "#include <catch2/catch.hpp>\n",
        "test/tests-main.cpp": "#define CATCH_CONFIG_MAIN\n#include \"catch.hpp\"\n",
        "leap.h": "#if !defined(LEAP_H)\n#define LEAP_H\n\nnamespace leap {\n\nbool is_leap_year(int year);\n\n"
                  "}  // namespace leap\n\n#endif // LEAP_H\n",
        "leap.cpp": "#include \"leap.h\"\n\nnamespace leap {\n\nbool is_leap_year(int) { return false; }\n\n"
                    "}  // namespace leap\n",
        "leap_test.cpp": "#include \"leap.h\"\n#ifdef EXERCISM_TEST_SUITE\n#include <catch2/catch.hpp>\n"
                         "#else\n#include \"test/catch.hpp\"\n#endif\n\n"
                         "TEST_CASE(\"not_divisible_by_4\") { REQUIRE(!leap::is_leap_year(2015)); }\n"
                         "#if defined(EXERCISM_RUN_ALL_TESTS)\n"
                         "TEST_CASE(\"divisible_by_4\") { REQUIRE(leap::is_leap_year(1996)); }\n"
                         "TEST_CASE(\"divisible_by_100\") { REQUIRE(!leap::is_leap_year(1900)); }\n"
                         "TEST_CASE(\"divisible_by_400\") { REQUIRE(leap::is_leap_year(2000)); }\n#endif\n",
        ".meta/example.h": "#if !defined(LEAP_H)\n#define LEAP_H\n\nnamespace leap {\n\n"
                           "bool is_leap_year(int year);\n\n}\n\n#endif\n",
        ".meta/example.cpp": "#include \"leap.h\"\n\nnamespace leap {\n\nbool is_leap_year(int year) {\n"
                             "    return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);\n}\n\n}\n",
    },
    "rust": {
        "files": {"solution": ["src/lib.rs", "Cargo.toml"], "test": ["tests/leap.rs"],
                  "example": [".meta/example.rs"]},
        "Cargo.toml": "[package]\nedition = \"2021\"\nname = \"leap\"\nversion = \"1.4.0\"\n",
        "src/lib.rs": "pub fn is_leap_year(year: u64) -> bool {\n"
                      "    todo!(\"true if {year} is a leap year\")\n}\n",
        "tests/leap.rs": "use leap::*;\n\n#[test]\nfn not_divisible_by_4() {\n    assert!(!is_leap_year(2015));\n}\n\n"
                         "#[test]\n#[ignore]\nfn divisible_by_4() {\n    assert!(is_leap_year(1996));\n}\n\n"
                         "#[test]\n#[ignore]\nfn divisible_by_100() {\n    assert!(!is_leap_year(1900));\n}\n\n"
                         "#[test]\n#[ignore]\nfn divisible_by_400() {\n    assert!(is_leap_year(2000));\n}\n",
        ".meta/example.rs": "pub fn is_leap_year(year: u64) -> bool {\n"
                            "    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)\n}\n",
    },
    "javascript": {
        "files": {"solution": ["leap.js"], "test": ["leap.spec.js"], "example": [".meta/proof.ci.js"]},
        "package.json": json.dumps({"name": "@exercism/javascript-leap", "private": True, "type": "module",
                                    "devDependencies": {"@babel/core": "^7.25.2", "jest": "^29.7.0"},
                                    "scripts": {"test": "jest ./*"}}, indent=2) + "\n",
        "babel.config.js": "module.exports = {\n  presets: [['@exercism/babel-preset-javascript']],\n};\n",
        "leap.js": "export const isLeap = () => {\n"
                   "  throw new Error('Remove this statement and implement this function');\n};\n",
        "leap.spec.js": "import { isLeap } from './leap';\n\ndescribe('A leap year', () => {\n"
                        "  test('year not divisible by 4', () => {\n    expect(isLeap(2015)).toBe(false);\n  });\n\n"
                        "  xtest('year divisible by 4', () => {\n    expect(isLeap(1996)).toBe(true);\n  });\n\n"
                        "  xtest('year divisible by 100', () => {\n    expect(isLeap(1900)).toBe(false);\n  });\n\n"
                        "  xtest('year divisible by 400', () => {\n    expect(isLeap(2000)).toBe(true);\n  });\n});\n",
        ".meta/proof.ci.js": "export const isLeap = (year) =>\n"
                             "  year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);\n",
    },
    "java": {
        "files": {"solution": ["src/main/java/Leap.java"], "test": ["src/test/java/LeapTest.java"],
                  "example": [".meta/src/reference/java/Leap.java"]},
        "build.gradle": "plugins {\n    id \"java\"\n}\n\nrepositories {\n    mavenCentral()\n}\n\n"
                        "dependencies {\n    testImplementation platform(\"org.junit:junit-bom:5.10.0\")\n"
                        "    testImplementation \"org.junit.jupiter:junit-jupiter\"\n"
                        "    testImplementation \"org.assertj:assertj-core:3.25.1\"\n}\n\n"
                        "test {\n    useJUnitPlatform()\n}\n",
        "src/main/java/Leap.java": "class Leap {\n\n    boolean isLeapYear(int year) {\n"
                                   "        throw new UnsupportedOperationException(\"Delete this statement\");\n"
                                   "    }\n\n}\n",
        "src/test/java/LeapTest.java": (
            "import org.junit.jupiter.api.BeforeEach;\nimport org.junit.jupiter.api.Disabled;\n"
            "import org.junit.jupiter.api.Test;\n\nimport static org.assertj.core.api.Assertions.assertThat;\n\n"
            "public class LeapTest {\n    private Leap leap;\n\n    @BeforeEach\n    public void setup() {\n"
            "        leap = new Leap();\n    }\n\n"
            "    @Test\n    public void notDivisibleBy4() {\n        assertThat(leap.isLeapYear(2015)).isFalse();\n    }\n\n"
            "    @Disabled(\"Remove to run test\")\n    @Test\n    public void divisibleBy4() {\n"
            "        assertThat(leap.isLeapYear(1996)).isTrue();\n    }\n\n"
            "    @Disabled(\"Remove to run test\")\n    @Test\n    public void divisibleBy100() {\n"
            "        assertThat(leap.isLeapYear(1900)).isFalse();\n    }\n\n"
            "    @Disabled(\"Remove to run test\")\n    @Test\n    public void divisibleBy400() {\n"
            "        assertThat(leap.isLeapYear(2000)).isTrue();\n    }\n}\n"),
        ".meta/src/reference/java/Leap.java": "class Leap {\n\n    boolean isLeapYear(int year) {\n"
                                              "        return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);\n"
                                              "    }\n\n}\n",
    },
}


def build_tree(root: Path, languages=None) -> Path:
    """Write the tree under ``root``; returns root."""
    for lang, ex in EXERCISES.items():
        if languages and lang not in languages:
            continue
        d = root / lang / "exercises" / "practice" / "leap"
        (d / ".docs").mkdir(parents=True)
        (d / ".meta").mkdir()
        (d / ".docs" / "instructions.md").write_text(DOCS.format(lang=lang))
        (d / ".meta" / "config.json").write_text(json.dumps(
            {"authors": ["dgm-tests"], "files": ex["files"], "blurb": "leap years"}, indent=2))
        for rel, text in ex.items():
            if rel != "files":
                (d / rel).parent.mkdir(parents=True, exist_ok=True)
                (d / rel).write_text(text)
    return root
