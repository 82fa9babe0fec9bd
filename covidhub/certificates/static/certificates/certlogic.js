/* CertLogic (specification 1.3.3), the rule language of the EU DCC business rules, for the
 * checkpoint verifier: the same semantics as covidhub/certificates/dcc/certlogic.py (the
 * server's evaluator), written for covidhub and checked in Chromium against every case of
 * the official evaluation suite. An expression is compiled once into closures; evaluating
 * throws CertLogicError on an invalid expression or a type mismatch, where the reference
 * implementation throws, and the rule engine turns that into an "open" rule.
 */
(function () {
  "use strict";

  var DAY = 86400000;
  var TIME_UNITS = ["year", "month", "day", "hour"];
  var COMPARISONS = { "<": 1, ">": 1, "<=": 1, ">=": 1 };
  var DATE_COMPARISONS = { after: ">", before: "<", "not-after": "<=", "not-before": ">=" };
  var INFIX = { "===": 1, and: 1, in: 1, "+": 1 };
  Object.keys(COMPARISONS).concat(Object.keys(DATE_COMPARISONS)).forEach(function (k) { INFIX[k] = 1; });
  var DATE_TIME = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{1,2}(?::?\d{2})?)?)?)?)?$/;

  function CertLogicError(message) { this.message = message; }
  function DateTime(ms) { this.ms = ms; }
  DateTime.prototype.toISOString = function () { return new Date(this.ms).toISOString(); };

  function isInt(value) { return typeof value === "number" && Number.isInteger(value); }
  function isObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value) && !(value instanceof DateTime);
  }
  function isTruthy(value) {
    if (value === true) return true;
    if (typeof value === "string" || Array.isArray(value)) return value.length > 0;
    if (isObject(value)) return Object.keys(value).length > 0;
    return isInt(value) && value !== 0;
  }
  function isFalsy(value) {
    if (value === false || value === null || value === undefined) return true;
    if (typeof value === "string" || Array.isArray(value)) return value.length === 0;
    if (isObject(value)) return Object.keys(value).length === 0;
    return isInt(value) && value === 0;
  }

  /* Milliseconds since the epoch; month and day may overflow as in Date.UTC. */
  function fromParts(year, month, day, millisOfDay) {
    var date = new Date(0);
    date.setUTCFullYear(year, month - 1, day);
    return date.getTime() + millisOfDay;
  }

  function offsetMinutes(text) {
    if (!text || text === "Z") return 0;
    var sign = text[0] === "-" ? -1 : 1;
    var hours, minutes;
    if (text.indexOf(":") >= 0) {
      var parts = text.slice(1).split(":");
      hours = parts[0]; minutes = parts[1];
    } else {
      var digits = text.slice(1);
      if (digits.length <= 2) { hours = digits; minutes = "0"; }
      else { hours = digits.slice(0, -2); minutes = digits.slice(-2); }
    }
    return sign * (parseInt(hours, 10) * 60 + parseInt(minutes, 10));
  }

  function parse(text) {
    var m = DATE_TIME.exec(text);
    if (!m) throw new CertLogicError("not an allowed date or date-time format: " + text);
    var year = parseInt(m[1], 10);
    if (m[2] === undefined) return fromParts(year, 12, 31, 0);
    var month = parseInt(m[2], 10);
    if (month < 1 || month > 12) throw new CertLogicError("not a calendar date: " + text);
    if (m[3] === undefined) return fromParts(year, month + 1, 0, 0);
    var day = parseInt(m[3], 10);
    var check = new Date(fromParts(year, month, day, 0));
    if (day < 1 || check.getUTCMonth() + 1 !== month || check.getUTCDate() !== day) {
      throw new CertLogicError("not a calendar date: " + text);
    }
    var millis = 0;
    if (m[4] !== undefined) {
      var hour = parseInt(m[4], 10), minute = parseInt(m[5], 10), second = parseInt(m[6], 10);
      if (hour > 23 || minute > 59 || second > 59) throw new CertLogicError("not a time: " + text);
      millis = ((hour * 60 + minute) * 60 + second) * 1000;
      millis += parseInt(((m[7] || "0").slice(0, 3) + "000").slice(0, 3), 10);
      millis -= offsetMinutes(m[8]) * 60000;
    }
    return fromParts(year, month, day, millis);
  }

  function plusTime(text, amount, unit) {
    var ms = parse(text);
    if (unit === "day") return new DateTime(ms + amount * DAY);
    if (unit === "hour") return new DateTime(ms + amount * 3600000);
    var moment = new Date(ms);
    var millisOfDay = ((ms % DAY) + DAY) % DAY;
    if (unit === "month") {
      return new DateTime(fromParts(moment.getUTCFullYear(), moment.getUTCMonth() + 1 + amount, moment.getUTCDate(), millisOfDay));
    }
    return new DateTime(fromParts(moment.getUTCFullYear() + amount, moment.getUTCMonth() + 1, moment.getUTCDate(), millisOfDay));
  }

  function failing(message) { return function () { throw new CertLogicError(message); }; }
  function constant(value) { return function () { return value; }; }

  function compileVar(path) {
    if (typeof path !== "string") return failing('not of the form { "var": "<path>" }');
    if (path === "") return function (data) { return data; };
    var fragments = path.split(".");
    return function (data) {
      var value = data;
      for (var i = 0; i < fragments.length; i++) {
        var key = fragments[i];
        if (isObject(value)) {
          value = Object.prototype.hasOwnProperty.call(value, key) ? value[key] : null;
        } else if (Array.isArray(value) && /^\d+$/.test(key)) {
          var index = parseInt(key, 10);
          value = index < value.length ? value[index] : null;
        } else {
          return null;
        }
        if (value === undefined) value = null;
      }
      return value;
    };
  }

  function compileIf(values) {
    if (values.length < 3) return failing("an if-operation must have a guard, a then and an else");
    var guard = compile(values[0]), then = compile(values[1]), otherwise = compile(values[2]);
    return function (data) {
      var value = guard(data);
      if (isTruthy(value)) return then(data);
      if (isFalsy(value)) return otherwise(data);
      throw new CertLogicError("if-guard evaluates to something neither truthy, nor falsy");
    };
  }

  function compileAnd(operands) {
    return function (data) {
      var accumulator = true;
      for (var i = 0; i < operands.length; i++) {
        if (isFalsy(accumulator)) return accumulator;
        if (!isTruthy(accumulator)) throw new CertLogicError("an and-operand is neither truthy, nor falsy");
        accumulator = operands[i](data);
      }
      return accumulator;
    };
  }

  var COMPARE = {
    "<": function (a, b) { return a < b; },
    ">": function (a, b) { return a > b; },
    "<=": function (a, b) { return a <= b; },
    ">=": function (a, b) { return a >= b; },
  };

  function compileComparison(symbol, operands, dates) {
    var compare = COMPARE[dates ? DATE_COMPARISONS[symbol] : symbol];
    var message = dates ? "all operands of a date-time comparison must be date-times"
      : "all operands of a comparison operation must be of integer type";
    function valueOf(evaluate, data) {
      var value = evaluate(data);
      if (dates) {
        if (!(value instanceof DateTime)) throw new CertLogicError(message);
        return value.ms;
      }
      if (!isInt(value)) throw new CertLogicError(message);
      return value;
    }
    return function (data) {
      var values = operands.map(function (operand) { return valueOf(operand, data); });
      if (values.length === 2) return compare(values[0], values[1]);
      return compare(values[0], values[1]) && compare(values[1], values[2]);
    };
  }

  function compileInfix(operator, values) {
    if (operator === "and") {
      if (values.length < 2) return failing('an "and" operation must have at least 2 operands');
    } else if (COMPARISONS[operator] || DATE_COMPARISONS[operator]) {
      if (values.length < 2 || values.length > 3) return failing('an operation with operator "' + operator + '" must have 2 or 3 operands');
    } else if (values.length !== 2) {
      return failing('an operation with operator "' + operator + '" must have 2 operands');
    }
    var operands = values.map(compile);
    if (operator === "and") return compileAnd(operands);
    if (operator === "===") return function (data) { return operands[0](data) === operands[1](data); };
    if (operator === "in") {
      return function (data) {
        var haystack = operands[1](data);
        if (haystack === null || haystack === undefined) return false;
        if (!Array.isArray(haystack)) throw new CertLogicError('right-hand side of an "in" operation must be an array');
        var needle = operands[0](data);
        return haystack.some(function (item) { return item === needle; });
      };
    }
    if (operator === "+") {
      return function (data) {
        var a = operands[0](data), b = operands[1](data);
        if (!isInt(a) || !isInt(b)) throw new CertLogicError("operands of this operation must both be integers");
        return a + b;
      };
    }
    return compileComparison(operator, operands, Boolean(DATE_COMPARISONS[operator]));
  }

  var OPERATIONS = {
    "if": compileIf,
    "!": function (values) {
      var operand = compile(values[0]);
      return function (data) {
        var value = operand(data);
        if (isFalsy(value)) return true;
        if (isTruthy(value)) return false;
        throw new CertLogicError("operand of ! evaluates to something neither truthy, nor falsy");
      };
    },
    plusTime: function (values) {
      if (values.length < 3) return failing('"plusTime" needs a date, an amount and a time unit');
      var operand = compile(values[0]), amount = values[1], unit = values[2];
      if (!isInt(amount)) return failing('"amount" argument (#2) of "plusTime" must be an integer');
      if (TIME_UNITS.indexOf(unit) < 0) return failing('"unit" argument (#3) of "plusTime" must be a time unit');
      return function (data) {
        var text = operand(data);
        if (typeof text !== "string") throw new CertLogicError('date argument of "plusTime" must be a string');
        return plusTime(text, amount, unit);
      };
    },
    reduce: function (values) {
      if (values.length < 3) return failing('"reduce" needs an operand, a lambda and an initial value');
      var operand = compile(values[0]), lambda = compile(values[1]), initial = compile(values[2]);
      return function (data) {
        var items = operand(data);
        var accumulator = initial(data);
        if (items === null || items === undefined) return accumulator;
        if (!Array.isArray(items)) throw new CertLogicError("operand of reduce evaluated to a non-null non-array");
        items.forEach(function (item) { accumulator = lambda({ accumulator: accumulator, current: item, data: data }); });
        return accumulator;
      };
    },
    extractFromUVCI: function (values) {
      if (values.length < 2) return failing('"extractFromUVCI" needs an operand and an index');
      var operand = compile(values[0]), index = values[1];
      if (!isInt(index)) return failing('"index" argument (#2) of "extractFromUVCI" must be an integer');
      return function (data) {
        var value = operand(data);
        if (value !== null && value !== undefined && typeof value !== "string") {
          throw new CertLogicError('"UVCI" argument (#1) of "extractFromUVCI" must be a string');
        }
        if (value === null || value === undefined || index < 0) return null;
        var text = value.indexOf("URN:UVCI:") === 0 ? value.slice(9) : value;
        var fragments = text.split(/[/#:]/);
        return index < fragments.length ? fragments[index] : null;
      };
    },
    dccDateOfBirth: function (values) {
      var operand = compile(values[0]);
      return function (data) {
        var value = operand(data);
        if (typeof value !== "string") throw new CertLogicError('operand of "dccDateOfBirth" must be a string');
        if (!/^\d{4}(?:-\d{2}(?:-\d{2})?)?$/.test(value)) throw new CertLogicError("not a DCC date of birth: " + value);
        return new DateTime(parse(value));
      };
    },
  };

  function compile(expression) {
    if (typeof expression === "string" || typeof expression === "boolean" || isInt(expression)) return constant(expression);
    if (Array.isArray(expression)) {
      var items = expression.map(compile);
      return function (data) { return items.map(function (item) { return item(data); }); };
    }
    if (!isObject(expression)) return failing("invalid CertLogic expression: " + JSON.stringify(expression));
    var keys = Object.keys(expression);
    if (keys.length !== 1) return failing("unrecognised expression object encountered");
    var operator = keys[0], values = expression[operator];
    if (operator === "var") return compileVar(values);
    if (!Array.isArray(values) || !values.length) return failing('operation not of the form { "<operator>": [ <values...> ] }');
    if (INFIX[operator]) return compileInfix(operator, values);
    if (!Object.prototype.hasOwnProperty.call(OPERATIONS, operator)) return failing('unrecognised operator: "' + operator + '"');
    return OPERATIONS[operator](values);
  }

  function evaluate(expression, data) { return compile(expression)(data); }

  /* Rules in the EU format ------------------------------------------------------------ */

  var CERTIFICATE_TYPES = { General: null, Vaccination: "v", Test: "t", Recovery: "r" };

  function versionKey(version) {
    return String(version).split(".").map(function (part) { return parseInt(part, 10) || 0; });
  }
  function newer(a, b) {
    var x = versionKey(a), y = versionKey(b);
    for (var i = 0; i < Math.max(x.length, y.length); i++) {
      if ((x[i] || 0) !== (y[i] || 0)) return (x[i] || 0) > (y[i] || 0);
    }
    return false;
  }

  /* For each identifier the highest version in force at `now` for a certificate of `kind`. */
  function rulesInForce(rules, kind, nowMs) {
    var chosen = {};
    (rules || []).forEach(function (rule) {
      var wanted = CERTIFICATE_TYPES[rule.CertificateType];
      if (wanted === undefined || (wanted !== null && wanted !== kind)) return;
      if (!(Date.parse(rule.ValidFrom) <= nowMs && nowMs <= Date.parse(rule.ValidTo))) return;
      var current = chosen[rule.Identifier];
      if (!current || newer(rule.Version, current.Version)) chosen[rule.Identifier] = rule;
    });
    return Object.keys(chosen).sort().map(function (id) { return chosen[id]; });
  }

  function description(rule, language) {
    var found = {};
    (rule.Description || []).forEach(function (item) { if (item && item.desc) found[item.lang] = item.desc; });
    return found[language] || found.en || Object.keys(found).map(function (k) { return found[k]; })[0] || rule.Identifier;
  }

  /* Each rule in force: passed (true), failed (false) or open (anything else, an error). */
  function rulesEvaluate(rules, payload, external, kind, nowMs, language) {
    var data = { payload: payload, external: external };
    return rulesInForce(rules, kind, nowMs).map(function (rule) {
      var status;
      try {
        var result = evaluate(rule.Logic, data);
        status = result === true ? "passed" : result === false ? "failed" : "open";
      } catch (error) {
        status = "open";
      }
      return { identifier: rule.Identifier, status: status, description: description(rule, language) };
    });
  }

  window.covidhubCertLogic = {
    evaluate: evaluate,
    compile: compile,
    plusTime: plusTime,
    DateTime: DateTime,
    CertLogicError: CertLogicError,
    rulesInForce: rulesInForce,
    rulesEvaluate: rulesEvaluate,
  };
})();
